using System.Security.Cryptography.X509Certificates;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>A small release folder written the way ReleaseWriter lays it out, for the verifier to judge.</summary>
internal sealed class ReleaseFolder
{
    private ReleaseFolder(string root)
    {
        Root = root;
        Directory = Path.Combine(root, ReleaseLayout.FolderName);
    }

    /// <summary>The temp folder that holds release/ (and files "outside" it).</summary>
    public string Root { get; }

    public string Directory { get; }

    public static ReleaseFolder Create()
    {
        var folder = new ReleaseFolder(Path.Combine(Path.GetTempPath(), "migrationtasks-release-tests", Guid.NewGuid().ToString("N")));
        folder.Write("migrations/V1__create.sql", "CREATE TABLE a (id int);\n");
        folder.Write("migrations/V2__index.sql", "CREATE INDEX CONCURRENTLY a_id ON a (id);\n");
        folder.Write("checks/no_orphans.sql", "SELECT 1 WHERE false;\n");
        folder.Write("verify/sub/has_a.sql", "SELECT 1 WHERE to_regclass('a') IS NULL;\n");
        folder.Write("plan.md", "# plan\n");
        folder.WriteManifest();
        return folder;
    }

    public string PathOf(string relative) => Path.Combine(Directory, relative.Replace('/', Path.DirectorySeparatorChar));

    public string Write(string relative, string content)
    {
        var path = PathOf(relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Writes manifest.json for the files there now, plus any extra entries (which may be hostile).</summary>
    public void WriteManifest(params ReleaseFile[] extra) => WriteManifest(new ExpectedPreState(true, null, [], null), extra);

    /// <summary>The same with the expected pre-state given (e.g. a baseline file name, which may be hostile).</summary>
    public void WriteManifest(ExpectedPreState preState, params ReleaseFile[] extra)
    {
        var files = System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Directory, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(p => !ReleaseLayout.IsManifestOrSignature(p))
            .Select(p => ReleaseFile.Of(Directory, p, Role(p)))
            .Concat(extra)
            .ToList();
        var manifest = new ReleaseManifest(
            ReleaseManifest.CurrentSchemaVersion, "Shop", "1.2.3", "PostgreSql", DateTimeOffset.UtcNow, null,
            preState, null, files, null);
        File.WriteAllText(PathOf(ReleaseLayout.ManifestName), manifest.ToJson());
    }

    public void Sign(X509Certificate2 certificate) => ReleaseSigner.SignManifest(Directory, certificate);

    private static ReleaseFileRole Role(string path) => path.Split('/')[0] switch
    {
        "migrations" => ReleaseFileRole.Migration,
        "checks" => ReleaseFileRole.Check,
        "verify" => ReleaseFileRole.Verify,
        "baseline.json" => ReleaseFileRole.Baseline,
        _ => ReleaseFileRole.Plan,
    };
}
