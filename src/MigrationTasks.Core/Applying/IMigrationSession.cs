using MigrationTasks.Engines;
using MigrationTasks.Scripts;

namespace MigrationTasks.Applying;

/// <summary>
/// An engine's session for applying one migration (see <see cref="MigrationApplier"/>): the engine's SQL and only
/// that. The applier decides what runs when and what each history row says.
/// </summary>
public interface IMigrationSession
{
    /// <summary>Begins the migration's own transaction, with the statement lock timeout of the apply's context.</summary>
    Task<IOwnTransaction> BeginTransactionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds a history row in a transaction of its own and returns its id. A <see cref="HistoryOutcome.Running"/> row
    /// (a migration about to run statement by statement) throws <see cref="DeployLockLostException"/> where the engine
    /// proves its lock in the row and the lock is lost. A <see cref="HistoryOutcome.Failed"/> row (a transactional
    /// attempt, after its rollback) is written whether or not the lock is still held; an engine may give it up when its
    /// session cannot take it, since the migration's own failure is the one to report.
    /// </summary>
    Task<long> InsertAsync(MigrationStep step, HistoryOutcome outcome, int statementsApplied, string? error, CancellationToken cancellationToken);

    /// <summary>
    /// Runs statement <paramref name="index"/> (0-based) of a migration that runs outside a transaction of the
    /// runner's; a failing one throws <see cref="ScriptFailedException"/>.
    /// </summary>
    Task ExecuteAsync(MigrationStep step, int index, CancellationToken cancellationToken);

    /// <summary>
    /// Records how far a migration run statement by statement got. A <see cref="HistoryOutcome.Running"/> or
    /// <see cref="HistoryOutcome.Success"/> row proves the lock where the engine proves it in its rows; a
    /// <see cref="HistoryOutcome.Failed"/> one (where it stopped) does not, and an engine may give it up when the
    /// failure took its session with it. Returns true when the row had to be written inside a transaction the script
    /// opened itself (BEGIN without COMMIT yet); an engine that does not look returns false.
    /// </summary>
    Task<bool> UpdateAsync(long id, MigrationStep step, int statementsApplied, HistoryOutcome outcome, string? error, CancellationToken cancellationToken);

    /// <summary>
    /// Throws <see cref="DeployLockLostException"/> when the deploy lock this database holds is lost. An engine that
    /// proves its lock inside the claim and every progress row has nothing to add here.
    /// </summary>
    Task ProveLockAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether a statement cancelled while it ran is recorded as <see cref="HistoryOutcome.Failed"/> ("cancelled");
    /// otherwise the row is left <see cref="HistoryOutcome.Running"/>, as a killed runner leaves it.
    /// </summary>
    bool RecordsCancellation { get; }

    /// <summary>
    /// Before a statement that runs outside any transaction: the start of a stretch whose writes a deploy measures
    /// (a no-op where it is already measuring, and for an engine that keeps no write counters).
    /// </summary>
    Task BeginStretchAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The stretch is committed (its statement ran outside any transaction, or the script's own transaction ended),
    /// or the migration stopped: what it wrote is recorded as the deploy's own.
    /// </summary>
    Task EndStretchAsync(CancellationToken cancellationToken);

    /// <summary>
    /// After a failure inside a transaction the script opened (see <see cref="UpdateAsync"/>): rolls it back, and with
    /// it the statements since its BEGIN and their progress rows. Asked only of an engine that reported one.
    /// </summary>
    Task RollBackScriptTransactionAsync();

    /// <summary>
    /// The failure of a script that ends inside the transaction it opened at <paramref name="opened"/> (1-based
    /// <paramref name="number"/>), which the applier rolls back. Asked only of an engine that reported one.
    /// </summary>
    ScriptFailedException ScriptTransactionLeftOpen(ScriptStatement opened, int number);

    /// <summary>A failure as the history's error column says it.</summary>
    string Describe(ScriptFailedException failure);
}
