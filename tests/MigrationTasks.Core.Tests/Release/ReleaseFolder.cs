using System.Security.Cryptography.X509Certificates;
using MigrationTasks.Diagnostics;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>
/// A small release package written the way the package step lays it out, for the verifier to judge: release/ and,
/// with <see cref="CreateWithRunner"/>, runner files beside it in the package folder.
/// </summary>
internal sealed class ReleaseFolder
{
    /// <summary>A runtimeconfig.json as the SDK writes it for the runner.</summary>
    public const string RuntimeConfig = """
        {
          "runtimeOptions": {
            "tfm": "net8.0",
            "rollForward": "Major",
            "framework": { "name": "Microsoft.NETCore.App", "version": "8.0.0" },
            "configProperties": {
              "System.Globalization.Invariant": false,
              "System.Runtime.TieredPGO": false
            }
          }
        }
        """;

    private ReleaseFolder(string root)
    {
        Root = root;
        Directory = Path.Combine(root, ReleaseLayout.FolderName);
    }

    /// <summary>The package folder: the temp folder that holds release/ (and the runner, and files "outside" release/).</summary>
    public string Root { get; }

    public string Directory { get; }

    /// <summary>release/ alone, its manifest listing no package file.</summary>
    public static ReleaseFolder Create() => Create(withRunner: false);

    /// <summary>release/ and beside it a runner (assemblies, host configuration, runtimes/) and a staging report.</summary>
    public static ReleaseFolder CreateWithRunner() => Create(withRunner: true);

    private static ReleaseFolder Create(bool withRunner)
    {
        var folder = new ReleaseFolder(Path.Combine(Path.GetTempPath(), "migrationtasks-release-tests", Guid.NewGuid().ToString("N")));
        folder.Write("migrations/V1__create.sql", "CREATE TABLE a (id int);\n");
        folder.Write("migrations/V2__index.sql", "CREATE INDEX CONCURRENTLY a_id ON a (id);\n");
        folder.Write("checks/no_orphans.sql", "SELECT 1 WHERE false;\n");
        folder.Write("verify/sub/has_a.sql", "SELECT 1 WHERE to_regclass('a') IS NULL;\n");
        folder.Write("plan.md", "# plan\n");
        if (withRunner)
        {
            folder.WriteBeside("migrate.dll", "MZ\u0090 the runner");
            folder.WriteBeside("Npgsql.dll", "MZ\u0090 a dependency");
            folder.WriteBeside("migrate.deps.json", "{ \"runtimeTarget\": { \"name\": \".NETCoreApp,Version=v8.0\" } }\n");
            folder.WriteBeside("migrate.runtimeconfig.json", RuntimeConfig);
            folder.WriteBeside("runtimes/unix/lib/net8.0/Microsoft.Data.SqlClient.dll", "MZ\u0090 a platform-specific dependency");
            folder.WriteBeside("staging-report.md", "# staging\n");
        }

        folder.WriteManifest();
        return folder;
    }

    public string PathOf(string relative) => Path.Combine(Directory, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>A path in the package folder, beside release/.</summary>
    public string PathBeside(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public string Write(string relative, string content) => WriteFile(PathOf(relative), content);

    public string WriteBeside(string relative, string content) => WriteFile(PathBeside(relative), content);

    /// <summary>
    /// Writes manifest.json for the files there now, plus any extra entries (which may be hostile). The package
    /// files are listed by the package step's own code, from what is beside release/ now.
    /// </summary>
    public void WriteManifest(params ReleaseFile[] extra) => WriteManifest(new ExpectedPreState(true, null, [], null), extra);

    /// <summary>The same with the expected pre-state given (e.g. a baseline file name, which may be hostile).</summary>
    public void WriteManifest(ExpectedPreState preState, params ReleaseFile[] extra) => WriteManifest(preState, extra, []);

    /// <summary>The same with extra package file entries (which may be hostile).</summary>
    public void WriteManifest(PackageFile[] extraPackageFiles) => WriteManifest(new ExpectedPreState(true, null, [], null), [], extraPackageFiles);

    private void WriteManifest(ExpectedPreState preState, ReleaseFile[] extra, PackageFile[] extraPackageFiles)
    {
        var files = System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Directory, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(p => !ReleaseLayout.IsManifestOrSignature(p))
            .Select(p => ReleaseFile.Of(Directory, p, Role(p)))
            .Concat(extra)
            .ToList();
        var packageFiles = new PackageFolderWriter(new Reporter(TextWriter.Null)).Write(null, Root).Concat(extraPackageFiles).ToList();
        var manifest = new ReleaseManifest(
            ReleaseManifest.CurrentSchemaVersion, "Shop", "1.2.3", "PostgreSql", ExpectedStateKind.SchemaSnapshot, DateTimeOffset.UtcNow, null,
            preState, null, files, packageFiles, null);
        File.WriteAllText(PathOf(ReleaseLayout.ManifestName), manifest.ToJson());
    }

    public void Sign(X509Certificate2 certificate) => ReleaseSigner.SignManifest(Directory, certificate);

    private static string WriteFile(string path, string content)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private static ReleaseFileRole Role(string path) => path.Split('/')[0] switch
    {
        "migrations" => ReleaseFileRole.Migration,
        "checks" => ReleaseFileRole.Check,
        "verify" => ReleaseFileRole.Verify,
        "baseline.json" => ReleaseFileRole.Baseline,
        _ => ReleaseFileRole.Plan,
    };
}
