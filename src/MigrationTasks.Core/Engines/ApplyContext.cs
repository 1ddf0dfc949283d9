namespace MigrationTasks.Engines;

/// <summary>
/// What the history records about who applied a migration and from which package, and how production runs it.
/// </summary>
/// <param name="DeployId">The deploy attempt the migration belongs to (<see cref="DeployAttempt.Id"/>); null outside
/// the production runner (dev builds, shadows).</param>
/// <param name="StatementLockTimeout">How long one statement may wait for a lock before it gives up (the engine's
/// lock_timeout), so that an ALTER queued behind a long reader does not queue the application behind itself; the
/// runner retries. Null: wait as long as the server lets it.</param>
/// <param name="RecordFailures">Record a failed transactional attempt in the history (dev builds); the production
/// runner records failures in its deploy attempt instead, so that a rolled-back deploy leaves the history as it was.</param>
public sealed record ApplyContext(
    string AppliedByHost,
    string? PackageId = null,
    string? PackageVersion = null,
    string? DeployId = null,
    TimeSpan? StatementLockTimeout = null,
    bool RecordFailures = true)
{
    public static ApplyContext ForThisMachine() => new(Environment.MachineName);
}
