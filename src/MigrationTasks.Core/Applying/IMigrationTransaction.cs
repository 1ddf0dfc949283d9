using MigrationTasks.Engines;

namespace MigrationTasks.Applying;

/// <summary>
/// An open transaction that migrations are applied in, with their history rows: a migration's own
/// (<see cref="IOwnTransaction"/>) or a whole release's (<see cref="IReleaseTransaction"/>). Only the engine's SQL;
/// <see cref="MigrationApplier"/> says in which order it runs.
/// </summary>
public interface IMigrationTransaction
{
    /// <summary>
    /// Adds the migration's history row as a success, before any of its statements runs, and returns its id: the
    /// transaction's rollback takes it back. The database's unique rule (one success per script and the success it
    /// supersedes) makes a concurrent deploy of the same migration wait here and then fail; both that and a lock the
    /// engine finds lost in the same statement throw <see cref="DeployLockLostException"/>.
    /// </summary>
    Task<long> ClaimAsync(MigrationStep step, CancellationToken cancellationToken);

    /// <summary>Runs every statement of the migration; a failing one throws <see cref="ScriptFailedException"/>.</summary>
    Task ExecuteAsync(MigrationStep step, CancellationToken cancellationToken);

    /// <summary>Completes a claimed row after the statements ran (their count and checksum, the finish time).</summary>
    Task CompleteClaimAsync(long claim, MigrationStep step, CancellationToken cancellationToken);
}
