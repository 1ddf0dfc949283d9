using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using MigrationTasks.Diagnostics;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>
/// `migrate verify` on the package folder around release/: the runner the .NET host loads before any check of its
/// own can run is covered by the signed manifest, and nothing the host could load may be added beside it.
/// </summary>
[Parallelizable(ParallelScope.All)]
public sealed class ReleaseVerifierPackageFolderTests
{
    private static readonly X509Certificate2 Signer = TestCertificates.Rsa("Shop Releases");

    private static (ReleaseFolder Package, string TrustPem) SignedPackage()
    {
        var package = ReleaseFolder.CreateWithRunner();
        package.Sign(Signer);
        // Kept outside the package folder: the trusted certificate is the user's, not the package's.
        var trust = TestCertificates.WritePublicPem(Signer, package.Root + "-signer.pem");
        return (package, trust);
    }

    private static ReleaseVerification Verify(ReleaseFolder package, string trust) =>
        ReleaseVerifier.Verify(package.Directory, trust, allowUnsigned: false);

    private static string Codes(ReleaseVerification result) =>
        string.Join(", ", result.Diagnostics.Select(d => d.Code));

    [Test]
    public void A_signed_untouched_package_passes_with_every_file_beside_release_listed()
    {
        var (package, trust) = SignedPackage();

        var result = Verify(package, trust);

        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Manifest!.PackageFiles.Select(f => f.Path), Is.EqualTo(new[]
        {
            "Npgsql.dll",
            "migrate.deps.json",
            "migrate.dll",
            "migrate.runtimeconfig.json",
            "runtimes/unix/lib/net8.0/Microsoft.Data.SqlClient.dll",
            "staging-report.md",
        }));
        Assert.That(result.Contents.Keys, Has.None.Contains("migrate"), "the runner's bytes are not kept: the deploy never reads them");
    }

    [Test]
    public void A_runner_file_or_the_manifest_replaced_by_a_FIFO_is_refused_without_being_opened()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("FIFOs are made with mkfifo");
        }

        var (package, trust) = SignedPackage();
        File.Delete(package.PathBeside("Npgsql.dll"));
        Traps.MakeFifo(package.PathBeside("Npgsql.dll"));

        var result = Traps.Within(() => Verify(package, trust));

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.File)), Is.EqualTo(new[] { (DiagnosticCodes.ReleaseFileChanged, (string?)package.PathBeside("Npgsql.dll")) }));

        var manifest = package.PathOf(ReleaseLayout.ManifestName);
        File.Delete(manifest);
        Traps.MakeFifo(manifest);

        Assert.That(Codes(Traps.Within(() => Verify(package, trust))), Is.EqualTo($"{DiagnosticCodes.InvalidSignature}, {DiagnosticCodes.ReleaseManifestInvalid}"));
    }

    [Test]
    public void A_release_folder_given_with_a_trailing_slash_is_checked_with_the_runner_around_it()
    {
        var (package, trust) = SignedPackage();
        File.Delete(package.PathBeside("Npgsql.dll"));

        var result = ReleaseVerifier.Verify(package.Directory + Path.DirectorySeparatorChar, trust, allowUnsigned: false);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.File)), Is.EqualTo(new[] { (DiagnosticCodes.ReleaseFileMissing, (string?)package.PathBeside("Npgsql.dll")) }));
        Assert.That(result.ReleaseDirectory, Is.EqualTo(package.Directory));
    }

    [TestCase("migrate.dll")]
    [TestCase("Npgsql.dll")]
    [TestCase("runtimes/unix/lib/net8.0/Microsoft.Data.SqlClient.dll")]
    public void A_byte_appended_to_a_runner_assembly_fails_with_MIG5014_naming_it(string assembly)
    {
        var (package, trust) = SignedPackage();
        var path = package.PathBeside(assembly);
        using (var stream = new FileStream(path, FileMode.Append))
        {
            stream.WriteByte(0);
        }

        var result = Verify(package, trust);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.ReleaseFileChanged));
        Assert.That(problem.File, Is.EqualTo(path));
        Assert.That(problem.Message, Does.StartWith($"{assembly} (beside release/) has SHA-256").And.Contain("do not run this package's migrate.dll"));
        Assert.That(result.Passed, Is.False);
    }

    [TestCase("STARTUP_HOOKS", "/tmp/hook.dll")]
    [TestCase("System.StartupHookProvider.IsSupported", "true")]
    public void A_startup_hook_setting_added_to_migrate_runtimeconfig_json_fails_with_MIG5014(string property, string value)
    {
        var (package, trust) = SignedPackage();
        var config = JsonNode.Parse(ReleaseFolder.RuntimeConfig)!;
        config["runtimeOptions"]!["configProperties"]![property] = value;
        var path = package.WriteBeside("migrate.runtimeconfig.json", config.ToJsonString());

        var result = Verify(package, trust);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.File)), Is.EqualTo(new[] { (DiagnosticCodes.ReleaseFileChanged, (string?)path) }));
    }

    [TestCase("migrate.runtimeconfig.dev.json", "the host's runtime configuration")]
    [TestCase("extra.dll", "an assembly")]
    [TestCase("HOOK.DLL", "an assembly")]
    [TestCase("libsomething.so", "a native library")]
    [TestCase("libsomething.so.1", "a native library")]
    [TestCase("tools/libsomething.dylib", "a native library")]
    [TestCase("migration-report/payload.dll", "an assembly")]
    [TestCase("Another.deps.json", "the host's dependency list")]
    [TestCase("runtimes/linux-x64/native/libhook.txt", "under runtimes/")]
    [TestCase("migrate", "the runner's apphost")]
    [TestCase("migrate.exe", "an executable")]
    public void A_file_the_dotnet_host_could_load_added_beside_release_fails_with_MIG5016_saying_so(string added, string what)
    {
        var (package, trust) = SignedPackage();
        var path = package.WriteBeside(added, "anything");

        var result = Verify(package, trust);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.UnlistedReleaseFile));
        Assert.That(problem.File, Is.EqualTo(path));
        Assert.That(problem.Message, Does.StartWith($"{added} is beside release/ but not in the manifest, and the .NET host could load it").And.Contain(what));
    }

    [Test]
    public void A_removed_runner_file_fails_with_MIG5015_naming_it()
    {
        var (package, trust) = SignedPackage();
        var removed = package.PathBeside("migrate.deps.json");
        File.Delete(removed);

        var result = Verify(package, trust);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.ReleaseFileMissing));
        Assert.That(problem.File, Is.EqualTo(removed));
        Assert.That(problem.Message, Does.Contain("Copy the whole publish folder, not only release/"));
    }

    [Test]
    public void Reports_backups_and_notes_a_run_leaves_beside_release_still_pass()
    {
        var (package, trust) = SignedPackage();
        package.WriteBeside("report.md", "# deploy report\n");
        package.WriteBeside("backups/x.dump", "PGDMP");
        package.WriteBeside("migration-report/report.json", "{}");
        package.WriteBeside("migration-backups/20261125-0200/shop.dump", "PGDMP");
        package.WriteBeside("README.txt", "how to run this package");
        package.WriteBeside(".notes", "hidden, and harmless");

        var result = Verify(package, trust);

        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Passed, Is.True);
    }

    [TestCase("../outside.dll", "holds '..'")]
    [TestCase("runtimes/../../outside.dll", "holds '..'")]
    [TestCase("/etc/passwd", "is absolute")]
    [TestCase("release/plan.md", "points into release/")]
    [TestCase("Release/migrations/V1__create.sql", "points into release/")]
    [TestCase("a//b.dll", "empty")]
    public void A_package_file_path_outside_the_package_folder_or_into_release_fails_with_MIG5008_before_any_file_is_read(string hostile, string why)
    {
        var package = ReleaseFolder.CreateWithRunner();
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(package.Root)!, "outside.dll"), "MZ");
        // A properly signed manifest whose entry has the right hash of what it points at: only the path rule refuses it.
        package.WriteManifest([new PackageFile(hostile, new string('0', 64))]);
        package.Sign(Signer);

        var result = ReleaseVerifier.Verify(package.Directory, ReleaseTrust.ThumbprintOf(Signer), allowUnsigned: false);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.UnsafeManifestPath));
        Assert.That(problem.Message, Does.Contain($"the package file '{hostile}', which").And.Contain(why));
        Assert.That(problem.File, Is.EqualTo(package.PathOf(ReleaseLayout.ManifestName)));
        Assert.That(result.Contents, Is.Empty, "no listed file was read");
    }

    [Test]
    public void A_runner_file_replaced_by_a_symbolic_link_fails_with_MIG5008_even_when_its_target_has_the_right_bytes()
    {
        var (package, trust) = SignedPackage();
        var runner = package.PathBeside("migrate.dll");
        var elsewhere = package.Root + "-migrate.dll";
        File.Move(runner, elsewhere);
        File.CreateSymbolicLink(runner, elsewhere);

        var result = Verify(package, trust);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.UnsafeManifestPath));
        Assert.That(problem.File, Is.EqualTo(runner));
    }

    [Test]
    public void An_unlisted_symbolic_link_to_a_folder_beside_release_fails_with_MIG5008_as_the_host_could_load_through_it()
    {
        var (package, trust) = SignedPackage();
        var target = System.IO.Directory.CreateDirectory(package.Root + "-elsewhere").FullName;
        File.WriteAllText(Path.Combine(target, "hook.dll"), "MZ");
        var link = package.PathBeside("en");
        System.IO.Directory.CreateSymbolicLink(link, target);

        var result = Verify(package, trust);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.UnsafeManifestPath));
        Assert.That(problem.File, Is.EqualTo(link));
        Assert.That(problem.Message, Does.Contain("symbolic link to a folder"));
    }

    [Test]
    public void A_signed_manifest_of_schema_version_1_which_left_the_runner_unsigned_fails_with_MIG5007()
    {
        var package = ReleaseFolder.CreateWithRunner();
        var manifest = JsonNode.Parse(File.ReadAllText(package.PathOf(ReleaseLayout.ManifestName)))!.AsObject();
        manifest["schemaVersion"] = 1;
        manifest.Remove("packageFiles");
        File.WriteAllText(package.PathOf(ReleaseLayout.ManifestName), manifest.ToJsonString());
        package.Sign(Signer);

        var result = ReleaseVerifier.Verify(package.Directory, ReleaseTrust.ThumbprintOf(Signer), allowUnsigned: false);

        Assert.That(Codes(result), Is.EqualTo(DiagnosticCodes.ReleaseManifestInvalid));
        Assert.That(result.Diagnostics.Single().Message, Does.Contain("its schemaVersion is 1, and this runner reads version 3"));
    }
}
