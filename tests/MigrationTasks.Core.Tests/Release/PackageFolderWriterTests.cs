using MigrationTasks.Diagnostics;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>The package step beside release/: the runner copied in, then every file there hashed for the manifest.</summary>
[Parallelizable(ParallelScope.All)]
public sealed class PackageFolderWriterTests
{
    private static string NewFolder(string name) =>
        Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "migrationtasks-package-tests", Guid.NewGuid().ToString("N"), name)).FullName;

    private static string Write(string folder, string relative, string content)
    {
        var path = Path.Combine(folder, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private static (IReadOnlyList<PackageFile> Files, string Output) WritePackage(string? runner, string package)
    {
        var output = new StringWriter();
        var files = new PackageFolderWriter(new Reporter(output)).Write(runner, package);
        return (files, output.ToString());
    }

    [Test]
    public void The_runners_folder_is_copied_without_symbols_and_every_file_beside_release_is_listed_but_a_runs_output()
    {
        var runner = NewFolder("cli");
        Write(runner, "migrate.dll", "MZ the runner");
        Write(runner, "migrate.pdb", "symbols");
        Write(runner, "migrate.runtimeconfig.json", "{}");
        Write(runner, "runtimes/unix/lib/net8.0/Microsoft.Data.SqlClient.dll", "MZ unix");
        // A CLI folder that is itself a package folder, where the runner once ran.
        Write(runner, "release/manifest.json", "{}");
        Write(runner, "migration-report/report.md", "# an old run");
        var package = NewFolder("publish");
        Write(package, "release/plan.md", "# plan");
        Write(package, "migrate.dll", "MZ an older runner");
        Write(package, "staging-report.json", "{}");
        Write(package, "Shop.dll", "MZ the project's own publish output");
        Write(package, "Shop.pdb", "the project's symbols");
        Write(package, "migration-backups/x.dump", "PGDMP");

        var (files, output) = WritePackage(runner, package);

        Assert.That(files.Select(f => f.Path).Order(StringComparer.Ordinal), Is.EqualTo(new[]
        {
            "Shop.dll",
            "Shop.pdb",
            "migrate.dll",
            "migrate.runtimeconfig.json",
            "runtimes/unix/lib/net8.0/Microsoft.Data.SqlClient.dll",
            "staging-report.json",
        }));
        Assert.That(File.ReadAllText(Path.Combine(package, "migrate.dll")), Is.EqualTo("MZ the runner"), "the runner that runs replaces an older one");
        Assert.That(files, Has.All.Matches<PackageFile>(f => f.Sha256 == Common.Sha256.Hex(File.ReadAllBytes(Path.Combine(package, f.Path)))));
        Assert.That(File.Exists(Path.Combine(package, "migrate.pdb")), Is.False);
        Assert.That(File.Exists(Path.Combine(package, "release", "manifest.json")), Is.False, "the CLI folder's own release/ is not copied");
        Assert.That(output, Does.Contain($"Runner: 3 file(s) of {runner} copied beside release/; 6 file(s) beside release/"));
    }

    [Test]
    public void A_runner_that_runs_from_the_package_folder_itself_is_listed_without_copying_it_onto_itself()
    {
        var package = NewFolder("publish");
        Write(package, "migrate.dll", "MZ the runner");
        Write(package, "release/plan.md", "# plan");

        var (files, output) = WritePackage(package + Path.DirectorySeparatorChar, package);

        Assert.That(files.Select(f => f.Path), Is.EqualTo(new[] { "migrate.dll" }));
        Assert.That(output, Does.Contain("Runner: 0 file(s)"));
    }

    [Test]
    public void A_symbolic_link_in_the_publish_folder_fails_the_package_step_with_MIG5008_naming_it()
    {
        var package = NewFolder("publish");
        Write(package, "release/plan.md", "# plan");
        var target = Write(Path.GetDirectoryName(package)!, "elsewhere.dll", "MZ");
        var link = Path.Combine(package, "Linked.dll");
        File.CreateSymbolicLink(link, target);

        var error = Assert.Throws<DiagnosticException>(() => WritePackage(null, package))!.Diagnostics.Single();

        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.UnsafeManifestPath));
        Assert.That(error.File, Is.EqualTo(link));
        Assert.That(error.Message, Does.Contain("Replace the link with the file"));
    }
}
