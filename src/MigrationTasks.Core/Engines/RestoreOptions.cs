namespace MigrationTasks.Engines;

/// <summary>How a restore may proceed.</summary>
/// <param name="Attempt">The deploy attempt the restore belongs to: recorded as restored in the restore's own
/// transaction, so that the record and the database cannot disagree. Null for a restore outside a deploy.</param>
/// <param name="DiscardLaterWrites">Restore even though other sessions wrote to the database since the backup,
/// discarding those writes. Without it such a restore is refused (<see cref="WritesSinceBackupException"/>).</param>
public sealed record RestoreOptions(DeployAttempt? Attempt = null, bool DiscardLaterWrites = false);
