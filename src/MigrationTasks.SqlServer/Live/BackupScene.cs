namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// Where a BACKUP or RESTORE works, for the words of its errors: the database, the server folder of the backup file,
/// and for a copy (restored beside its source under a new name) the folder its files are created in.
/// </summary>
internal sealed record BackupScene(string Database, string BackupFolder, string? CopyDataFolder)
{
    public bool IsCopy => CopyDataFolder is not null;

    /// <summary>A copy of <paramref name="source"/>: backed up into, and restored from, <paramref name="backupFolder"/>, its files created in <paramref name="dataFolder"/>.</summary>
    public static BackupScene ForCopy(string source, string backupFolder, string dataFolder) => new(source, backupFolder, dataFolder);

    /// <summary>A deploy's backup of <paramref name="database"/> in <paramref name="backupFolder"/> (--backup-dir), restored over the database itself.</summary>
    public static BackupScene ForDatabase(string database, string backupFolder) => new(database, backupFolder, null);
}
