namespace MigrationTasks.SqlServer.Live;

/// <summary>What a failed BACKUP or RESTORE ran into, as far as the server's error numbers tell.</summary>
internal enum BackupFailureKind
{
    /// <summary>The server's errors name nothing this table knows; its own words are all there is.</summary>
    Unknown,
    BackupPermissionDenied,
    RestorePermissionDenied,
    BackupPathNotOnServer,
    BackupFileNotWritable,
    BackupFileNotReadable,
    BackupDamaged,
    BackupFromNewerServer,
    DatabaseFilesNotCreatable,
    DiskFull,
    EditionSizeLimit,
    DatabaseBusy,
    DatabaseNameTaken,
}
