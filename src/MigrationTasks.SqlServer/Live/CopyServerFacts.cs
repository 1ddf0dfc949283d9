using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// What the server says about where a copy can go: its default backup, data and log folders, the source's own first
/// data file, and whether the login may have the server delete a backup file (xp_delete_file).
/// </summary>
internal sealed record CopyServerFacts(string? BackupPath, string? DataPath, string? LogPath, string? SourceDataFile, bool ServerMayDelete)
{
    internal const string Sql = """
        SELECT CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(4000)),
               CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(4000)),
               CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(4000)),
               (SELECT TOP (1) physical_name FROM sys.database_files WHERE type = 0 ORDER BY file_id),
               CAST(CASE WHEN IS_SRVROLEMEMBER('sysadmin') = 1 OR HAS_PERMS_BY_NAME('master.sys.xp_delete_file', 'OBJECT', 'EXECUTE') = 1 THEN 1 ELSE 0 END AS bit)
        """;

    /// <summary>
    /// The folders the copy's backup, data and log files go to, or null when the server names no data folder.
    /// InstanceDefaultBackupPath is new in SQL Server 2019 and InstanceDefaultDataPath in 2012: before them the folder
    /// of the source's own data file. A deploy's backups go to --backup-dir (SqlServerBackups), but a copy is asked
    /// for without one, and the default data folder is one the service account surely writes.
    /// </summary>
    public (string Backup, string Data, string Log)? Folders()
    {
        var data = DataPath ?? SqlServerPaths.FolderOf(SourceDataFile);
        return data is null ? null : (BackupPath ?? data, data, LogPath ?? data);
    }

    public static async Task<CopyServerFacts> ReadAsync(SqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(Sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        string? Text(int i) => reader.IsDBNull(i) || reader.GetString(i).Length == 0 ? null : reader.GetString(i);
        return new CopyServerFacts(Text(0), Text(1), Text(2), Text(3), !reader.IsDBNull(4) && reader.GetBoolean(4));
    }
}
