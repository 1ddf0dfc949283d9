namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// Paths on the SQL Server's own file system, which BACKUP, RESTORE and the server's properties speak of. A SQL Server
/// on Linux reports <c>/var/opt/mssql/data/</c>, one on Windows <c>C:\…\DATA\</c> or <c>\\share\…</c>: the client's
/// <see cref="Path"/> says nothing about them, so they are split and joined with the server's own separator.
/// </summary>
internal static class SqlServerPaths
{
    /// <summary>The separator <paramref name="serverPath"/> uses: '/' when it has only forward slashes, else '\'.</summary>
    public static char Separator(string serverPath) =>
        serverPath.Contains('/', StringComparison.Ordinal) && !serverPath.Contains('\\', StringComparison.Ordinal) ? '/' : '\\';

    /// <summary>A file name in a folder of the server, joined with the server's separator.</summary>
    public static string Join(string folder, string name)
    {
        var separator = Separator(folder);
        return folder.TrimEnd(separator) + separator + name;
    }

    /// <summary>The folder of a server path (without its trailing separator), or null when it has none.</summary>
    public static string? FolderOf(string? serverPath)
    {
        if (string.IsNullOrEmpty(serverPath))
        {
            return null;
        }

        var last = serverPath.LastIndexOf(Separator(serverPath));
        return last <= 0 ? null : serverPath[..last];
    }
}
