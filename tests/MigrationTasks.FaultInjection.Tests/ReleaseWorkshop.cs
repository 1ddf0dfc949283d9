using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MigrationTasks.Testing;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// Makes signed release packages as `dotnet publish` does, with the real CLI's <c>package</c> verb (run out of
/// process), from scripts given as text, planned against production's baseline. A package is made once per distinct
/// content and copied for each run, so that a test may tamper with its copy.
/// </summary>
internal static class ReleaseWorkshop
{
    public const string PasswordVariable = "MIGRATIONTASKS_SIGNING_PASSWORD";
    private const string SigningPassword = "fault-suite-signing-pw";

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Packages = new();
    private static readonly Lazy<(string Pfx, string Pem)> Keys = new(CreateKeys);
    private static readonly string Root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "migrationtasks-faults", $"packages-{Environment.ProcessId}")).FullName;

    /// <summary>The CLI this build made: the runner every package carries.</summary>
    public static string CliDirectory { get; } = FindCli();

    /// <summary>The signer's certificate, as `--trust` takes it.</summary>
    public static string TrustPem => Keys.Value.Pem;

    /// <summary>A script of the release: its file name under migrations/, checks/ or verify/, and its text.</summary>
    public sealed record Script(string Name, string Text);

    /// <summary>A copy of the package for these scripts (made on first use), in a folder of its own: returns the package folder (holding migrate.dll and release/).</summary>
    public static async Task<string> PackageAsync(string baseline, Script[] migrations, Script[]? checks = null, Script[]? verify = null, string version = "1.1.0")
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\0",
            new[] { baseline, version }.Concat((migrations.Concat(checks ?? []).Concat(verify ?? [])).Select(s => s.Name + "\u0001" + s.Text))))))[..16];
        var made = await Packages.GetOrAdd(key, _ => new Lazy<Task<string>>(() => MakeAsync(key, baseline, migrations, checks ?? [], verify ?? [], version))).Value;
        var copy = Path.Combine(Root, $"run-{Guid.NewGuid():N}");
        CopyFolder(made, copy);
        return copy;
    }

    private static async Task<string> MakeAsync(string key, string baseline, Script[] migrations, Script[] checks, Script[] verify, string version)
    {
        var project = Directory.CreateDirectory(Path.Combine(Root, $"project-{key}")).FullName;
        string Write(string folder, Script script)
        {
            var path = Path.Combine(project, folder, script.Name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, script.Text);
            return path;
        }

        var publish = Path.Combine(Root, $"publish-{key}");
        var arguments = new List<string>
        {
            "package", "--engine", "PostgreSql", "--publish-dir", publish, "--package-id", "shop", "--version", version,
            "--state-dir", Path.Combine(project, "obj"), "--baseline", baseline, "--signing-certificate", Keys.Value.Pfx, "--project-dir", project,
        };
        // The project holds production's history too (V1): the package step plans against the baseline with it.
        arguments.AddRange(migrations.Prepend(new Script("V1__shop.sql", Production.V1)).SelectMany(m => new[] { "--migration", Write("Migrations", m) }));
        arguments.AddRange(checks.SelectMany(c => new[] { "--check", Write("Checks", c) }));
        arguments.AddRange(verify.SelectMany(v => new[] { "--verify", Write("Verify", v) }));
        using var runner = RunnerProcess.Start(Path.Combine(CliDirectory, "migrate.dll"), arguments, new Dictionary<string, string> { [PasswordVariable] = SigningPassword });
        var (exit, output) = await runner.WaitForExitAsync(TimeSpan.FromMinutes(3));
        if (exit != 0)
        {
            throw new InvalidOperationException($"migrate package failed ({exit}):\n{output}");
        }

        if (!File.Exists(Path.Combine(publish, "migrate.dll")))
        {
            // The runner beside release/, as the package's targets put it there.
            foreach (var file in Directory.EnumerateFiles(CliDirectory, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".pdb", StringComparison.Ordinal)))
            {
                var target = Path.Combine(publish, Path.GetRelativePath(CliDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
        }

        return publish;
    }

    private static (string Pfx, string Pem) CreateKeys()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Fault Suite Releases", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var pfx = Path.Combine(Root, "signing.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, SigningPassword));
        var pem = Path.Combine(Root, "signing.pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        return (pfx, pem);
    }

    /// <summary>Names a folder holding another build of the CLI to run the suite against (e.g. an older runner, to see what it broke).</summary>
    public const string CliOverrideVariable = "MIGRATIONTASKS_FAULT_SUITE_CLI";

    private static string FindCli()
    {
        if (Environment.GetEnvironmentVariable(CliOverrideVariable) is { Length: > 0 } other)
        {
            return other;
        }

        // The same configuration as this test assembly (bin/<Configuration>/net10.0/…).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var directory = Path.Combine(RepositoryPaths.Root, "src", "MigrationTasks.Cli", "bin", configuration, "net8.0");
        return File.Exists(Path.Combine(directory, "migrate.dll"))
            ? directory
            : throw new InvalidOperationException($"the CLI is not built at {directory}: build the solution first.");
    }

    /// <summary>Deletes this run's packages and their copies (several GB for the whole suite), after its last test.</summary>
    public static void DeletePackages()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    public static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
