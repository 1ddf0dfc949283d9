namespace MigrationTasks.Engines;

/// <summary>
/// A restore would discard what other sessions wrote since the backup (the application kept writing), so it was not
/// done: the database is as it was before the restore was tried.
/// </summary>
/// <param name="Writes">Each table with what others changed in it, in words, e.g. "public.orders: 12 inserted, 3 updated".</param>
public sealed class WritesSinceBackupException(string backupId, IReadOnlyList<string> writes)
    : Exception($"other sessions wrote to the database since backup {backupId} was taken: {string.Join("; ", writes)}")
{
    public string BackupId { get; } = backupId;

    public IReadOnlyList<string> Writes { get; } = writes;
}
