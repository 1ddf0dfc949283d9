using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Tests;

/// <summary>A dacpac a test built, and the path of each Schema/ file by its name.</summary>
internal sealed record BuiltProject(string Dacpac, Dictionary<string, string> Files);

/// <summary>A temp folder for a test's SQL files, deleted when disposed.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder() => System.IO.Directory.CreateDirectory(Directory);

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "migrationtasks-sqlserver-tests", Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Writes a file (folders created) and returns its full path.</summary>
    public string Write(string relativePath, string content)
    {
        var path = PathOf(relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>
    /// Writes <paramref name="schema"/> (file name → text) under <c>name/Schema/</c> and builds it with DacFx into
    /// <c>name/bin/name.dacpac</c> for the database ShopDb, with a post-deployment script when one is given.
    /// </summary>
    public BuiltProject BuildDacpac(string name, IReadOnlyDictionary<string, string> schema, string? postDeployment = null)
    {
        var files = schema.ToDictionary(f => f.Key, f => Write($"{name}/Schema/{f.Key}", f.Value));
        var dacpac = PathOf($"{name}/bin/{name}.dacpac");
        var output = new StringWriter();
        var result = new DacpacBuilder(new Reporter(output)).Build(new DacpacBuildOptions(
            [.. files.Values],
            dacpac,
            PostDeploymentScript: postDeployment is null ? null : Write($"{name}/Deploy/PostDeployment.sql", postDeployment),
            DatabaseName: "ShopDb"));
        Assert.That(result.Written, Is.True, output.ToString());
        return new BuiltProject(dacpac, files);
    }

    /// <summary>As <see cref="BuildDacpac(string, IReadOnlyDictionary{string, string}, string?)"/>, the files named 0.sql, 1.sql…; returns the dacpac.</summary>
    public string BuildDacpac(string name, params string[] files) =>
        BuildDacpac(name, files.Select((text, i) => (Name: $"{i}.sql", text)).ToDictionary(f => f.Name, f => f.text)).Dacpac;

    public string PathOf(string relativePath) => Path.Combine(Directory, relativePath);

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
