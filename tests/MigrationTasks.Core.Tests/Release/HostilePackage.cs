using System.Text;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>
/// A signed release package (release/ and a runner beside it) in a sandbox folder of its own, with traps for a
/// verifier that reads where it must not. Beside the package: a file whose content (<see cref="Sentinel"/>) must
/// never show in what the verifier returns, and a FIFO, which blocks whoever opens it for reading, so that opening it
/// is a hang the fuzzing watchdog reports. Inside: links to both, a link loop, a link out of the package, and a FIFO.
/// The traps are made after the manifest, which lists none of them.
/// </summary>
internal sealed class HostilePackage
{
    private HostilePackage(string sandbox)
    {
        Sandbox = sandbox;
        PackageRoot = Path.Combine(sandbox, "package");
        ReleaseDirectory = Path.Combine(PackageRoot, ReleaseLayout.FolderName);
    }

    /// <summary>Holds the package folder and the traps beside it.</summary>
    public string Sandbox { get; }

    public string PackageRoot { get; }

    public string ReleaseDirectory { get; }

    /// <summary>The content of the file beside the package, unique to this package.</summary>
    public string Sentinel { get; } = "SENTINEL-" + Guid.NewGuid().ToString("N");

    public string SecretPath => Path.Combine(Sandbox, "secret.txt");

    /// <summary>The FIFO beside the package; null where FIFOs cannot be made (Windows).</summary>
    public string? FifoPath { get; private set; }

    /// <summary>manifest.json as the package step wrote it, before any mutation.</summary>
    public string ManifestJson { get; private set; } = "";

    public string ManifestPath => Path.Combine(ReleaseDirectory, ReleaseLayout.ManifestName);

    /// <summary>The names inside release/ and the package folder that are links or FIFOs.</summary>
    public static IReadOnlyList<string> TrapNames { get; } = ["link-to-secret", "link-to-fifo", "loop", "fifo-inside", "migrations/up", "link-out", "fifo-beside"];

    public static HostilePackage Create()
    {
        var release = ReleaseFolder.CreateWithRunner();
        release.Write(ReleaseLayout.BaselineName, "{ \"engine\": \"PostgreSql\", \"history\": [] }\n");
        release.WriteManifest(new ExpectedPreState(
            false, ReleaseLayout.BaselineName, [new AppliedMigration("1", "V1__a.sql", "aa"), new AppliedMigration(null, "R__v.sql", "bb")], "cc"));
        release.Sign(TestCertificates.Rsa("Fuzz Releases"));

        var package = new HostilePackage(Directory.CreateTempSubdirectory("migrationtasks-fuzz-").FullName);
        Directory.Move(release.Root, package.PackageRoot);
        package.ManifestJson = File.ReadAllText(package.ManifestPath);
        package.MakeTraps();
        return package;
    }

    /// <summary>Whether <paramref name="bytes"/> hold the sentinel, in UTF-8.</summary>
    public bool Reveals(ReadOnlySpan<byte> bytes) => bytes.IndexOf(Encoding.UTF8.GetBytes(Sentinel)) >= 0;

    public void Delete()
    {
        try
        {
            Directory.Delete(Sandbox, recursive: true);
        }
        catch (IOException)
        {
            // A FIFO a hung verifier still holds open: the temp folder is cleaned with the machine.
        }
    }

    private void MakeTraps()
    {
        File.WriteAllText(SecretPath, Sentinel);
        File.CreateSymbolicLink(Path.Combine(ReleaseDirectory, "link-to-secret"), SecretPath);
        Directory.CreateSymbolicLink(Path.Combine(ReleaseDirectory, "loop"), "..");
        Directory.CreateSymbolicLink(Path.Combine(ReleaseDirectory, "migrations", "up"), Path.Combine("..", "..", ".."));
        File.CreateSymbolicLink(Path.Combine(PackageRoot, "link-out"), SecretPath);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        FifoPath = Path.Combine(Sandbox, "fifo");
        Traps.MakeFifo(FifoPath);
        Traps.MakeFifo(Path.Combine(ReleaseDirectory, "fifo-inside"));
        Traps.MakeFifo(Path.Combine(PackageRoot, "fifo-beside"));
        File.CreateSymbolicLink(Path.Combine(ReleaseDirectory, "link-to-fifo"), FifoPath);
    }
}
