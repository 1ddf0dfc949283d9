namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// A failed BACKUP or RESTORE explained: the server's error that caused it, what that means here (null when the
/// table does not know the error) and what to do about it.
/// </summary>
internal sealed record BackupFailure(BackupStatement Statement, BackupFailureKind Kind, int Number, string ServerMessage, string? Cause, string Advice)
{
    public string StatementText => Statement switch
    {
        BackupStatement.Backup => "BACKUP DATABASE",
        BackupStatement.Verify => "RESTORE VERIFYONLY",
        BackupStatement.ReadFileList => "RESTORE FILELISTONLY",
        _ => "RESTORE DATABASE",
    };

    /// <summary>The cause in words, then the server's own: <c>the login lacks … (BACKUP DATABASE: 262: BACKUP DATABASE permission denied …)</c>.</summary>
    public string Reason => $"{Cause ?? $"{StatementText} failed"} ({StatementText}: {Number}: {ServerMessage})";
}
