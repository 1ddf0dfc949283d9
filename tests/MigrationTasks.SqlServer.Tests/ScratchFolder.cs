namespace MigrationTasks.SqlServer.Tests;

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

    public string PathOf(string relativePath) => Path.Combine(Directory, relativePath);

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
