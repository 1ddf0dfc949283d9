using System.Text;
using MigrationTasks.Release;
using MigrationTasks.Testing;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>
/// Whatever manifest.json holds, reading it gives a manifest that keeps its contract or an InvalidDataException,
/// and verifying the package ends within the watchdog's time with diagnostics, never an exception, and never with
/// anything read from outside the package folder (see <see cref="HostilePackage"/> for the traps).
/// </summary>
[TestFixture]
[Category(Fuzzing.Category)]
[NonParallelizable]
public sealed class ReleaseManifestFuzzTests
{
    private HostilePackage _package = null!;
    private ManifestMutations _mutations = null!;

    [OneTimeSetUp]
    public void MakePackage()
    {
        _package = HostilePackage.Create();
        _mutations = new ManifestMutations(_package);
    }

    [OneTimeTearDown]
    public void DeletePackage() => _package.Delete();

    // How many mutated manifests were read rather than refused: the share that reaches the verifier's file checks.
    private int _read;
    private int _refused;

    [Test]
    public void Mutated_manifests_are_read_or_refused_with_InvalidDataException()
    {
        Fuzzing.Run("manifest-parse", 2_000, _mutations.Mutate, ReadsOrRefuses, bytes => bytes);
        TestContext.Out.WriteLine($"manifest-parse: {_read} read, {_refused} refused");
    }

    [Test]
    public void Mutated_manifests_are_verified_into_diagnostics_without_reading_outside_the_package()
    {
        Fuzzing.Run("manifest-verify", 600, _mutations.Mutate, VerifiesInsideThePackage, bytes => bytes);
    }

    private void ReadsOrRefuses(byte[] bytes)
    {
        ReleaseManifest manifest;
        try
        {
            // Decoded as the verifier decodes it.
            manifest = ReleaseManifest.Parse(new UTF8Encoding(false).GetString(bytes));
        }
        catch (InvalidDataException)
        {
            Interlocked.Increment(ref _refused);
            return;
        }

        Interlocked.Increment(ref _read);
        Fuzzing.Require(manifest.SchemaVersion == ReleaseManifest.CurrentSchemaVersion, "a manifest read is of the current schema");
        Fuzzing.Require(
            manifest.PackageId is not null && manifest.Version is not null && manifest.Engine is not null && manifest.ExpectedPreState is not null,
            "a manifest read has its package id, version, engine and expected pre-state");
        Fuzzing.Require(manifest.ExpectedPreState!.History?.All(h => h?.Script is not null && h.Checksum is not null) != false, "every expected history entry has its script and checksum");
        Fuzzing.Require(
            manifest.ExpectedPostState is null || (manifest.ExpectedState == ExpectedStateKind.SchemaSnapshot ? manifest.ExpectedPostState.SchemaHash : manifest.ExpectedPostState.CatalogFingerprint) is not null,
            "an expected post-state has the field its kind compares");
        Fuzzing.Require(manifest.Files.All(f => f?.Path is not null && f.Sha256 is not null && Enum.IsDefined(f.Role)), "every file has its path, hash and a known role");
        Fuzzing.Require(manifest.PackageFiles.All(f => f?.Path is not null && f.Sha256 is not null), "every package file has its path and hash");
    }

    private void VerifiesInsideThePackage(byte[] manifest)
    {
        File.WriteAllBytes(_package.ManifestPath, manifest);

        // Anything it throws breaks the property.
        var result = ReleaseVerifier.Verify(_package.ReleaseDirectory, null, allowUnsigned: true);

        Fuzzing.Require(result.Diagnostics.Count > 0, "a package with traps in it never passes quietly");
        Fuzzing.Require(
            !result.Diagnostics.Any(d => d.ToString().Contains(_package.Sentinel, StringComparison.Ordinal)),
            "no diagnostic shows the content of the file beside the package");
        foreach (var (path, bytes) in result.Contents)
        {
            var full = Path.GetFullPath(Path.Combine(_package.ReleaseDirectory, path));
            Fuzzing.Require(full.StartsWith(_package.ReleaseDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"'{path}' was read inside release/");
            Fuzzing.Require(!_package.Reveals(bytes), $"'{path}' does not hold the content of the file beside the package");
        }
    }
}
