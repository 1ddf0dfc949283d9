namespace MigrationTasks.SqlServer.Live;

/// <summary>The BACKUP and RESTORE statements of a deploy's backup and of a database copy, each failing for its own reasons.</summary>
internal enum BackupStatement
{
    /// <summary>BACKUP DATABASE.</summary>
    Backup,

    /// <summary>RESTORE VERIFYONLY, the proof that a backup reads back.</summary>
    Verify,

    /// <summary>RESTORE FILELISTONLY, which a copy reads to move every file.</summary>
    ReadFileList,

    /// <summary>RESTORE DATABASE.</summary>
    Restore,
}
