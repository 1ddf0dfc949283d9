namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The WITH MOVE list that restores a backup as a copy beside its source: every file gets a new name in the server's
/// default folders, so the copy never touches the source's files.
/// </summary>
internal static class CopyFileMoves
{
    /// <summary>
    /// Where each file of the backup goes: data files (D) into the data folder, the first as .mdf and the others as
    /// .ndf; logs (L) into the log folder as .ldf; FILESTREAM and memory-optimized containers (S) and old full-text
    /// catalogs (F) are folders, named without an extension. The backup's FileId numbers them, so names never clash.
    /// </summary>
    public static IReadOnlyList<(string Logical, string Physical)> Targets(IReadOnlyList<BackupFileListRow> files, string dataFolder, string logFolder, string stem) =>
        [.. files.Select(f => (f.LogicalName, f.Type switch
        {
            "L" => SqlServerPaths.Join(logFolder, $"{stem}_{f.FileId}.ldf"),
            "D" => SqlServerPaths.Join(dataFolder, $"{stem}_{f.FileId}.{(f.FileId == 1 ? "mdf" : "ndf")}"),
            _ => SqlServerPaths.Join(dataFolder, $"{stem}_{f.FileId}"),
        }))];

    /// <summary>The WITH MOVE list of a RESTORE, names and paths as literals with their quotes doubled.</summary>
    public static string Clause(IReadOnlyList<(string Logical, string Physical)> targets) =>
        string.Join(", ", targets.Select(t => $"MOVE {SqlServerConnections.Literal(t.Logical)} TO {SqlServerConnections.Literal(t.Physical)}"));
}
