using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// The migration session of a <see cref="PostgresDatabase"/>, for <see cref="MigrationApplier"/>. The deploy lock is
/// proven inside the history writes (the claim and every progress row), so nothing proves it on its own. A script run
/// statement by statement may open its own transaction (BEGIN … COMMIT): the progress rows tell, since they are then
/// written inside it. A deploy measures what each stretch of statements outside a transaction writes
/// (see <see cref="PostgresWriteCounters"/>).
/// </summary>
internal sealed class PostgresMigrationSession(PostgresDatabase database, NpgsqlConnection connection, ApplyContext context) : IMigrationSession
{
    private PostgresWriteCounters.OutsideProbe? _stretch;

    public bool RecordsCancellation => true;

    public Task<IOwnTransaction> BeginTransactionAsync(CancellationToken cancellationToken) =>
        PostgresOwnTransaction.BeginAsync(database, connection, context, cancellationToken);

    public Task<long> InsertAsync(MigrationStep step, HistoryOutcome outcome, int statementsApplied, string? error, CancellationToken cancellationToken) =>
        PostgresHistory.InsertAsync(connection, step, context, outcome, statementsApplied, error, LockProven(outcome), cancellationToken);

    public async Task ExecuteAsync(MigrationStep step, int index, CancellationToken cancellationToken)
    {
        // No statement lock timeout here: a CONCURRENTLY build waits for other transactions by design, without
        // blocking them, and one that gave up would leave an invalid index behind for its retry to trip on.
        var statement = step.Script.Statements[index];
        try
        {
            await using var command = VerbatimSql.Command(statement.Text, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            throw PostgresDatabase.Failure(e, statement, index + 1);
        }
    }

    public async Task<bool> UpdateAsync(long id, MigrationStep step, int statementsApplied, HistoryOutcome outcome, string? error, CancellationToken cancellationToken)
    {
        if (outcome == HistoryOutcome.Failed && !IsOpen)
        {
            // The failure took the session with it: that failure is the one to report.
            return false;
        }

        return await PostgresHistory.UpdateProgressAsync(connection, id, step, statementsApplied, outcome, error, LockProven(outcome), cancellationToken);
    }

    public Task ProveLockAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task BeginStretchAsync(CancellationToken cancellationToken)
    {
        if (context.DeployId is not null)
        {
            _stretch ??= await PostgresWriteCounters.BeginOutsideAsync(connection, database.LockHolder?.Pid, cancellationToken);
        }
    }

    public async Task EndStretchAsync(CancellationToken cancellationToken)
    {
        if (context.DeployId is { } deployId && IsOpen)
        {
            _stretch = await PostgresWriteCounters.EndOutsideAsync(connection, _stretch, deployId, database.LockHolder?.Pid, cancellationToken);
        }
    }

    public async Task RollBackScriptTransactionAsync()
    {
        if (IsOpen)
        {
            await using var command = new NpgsqlCommand("ROLLBACK", connection);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public ScriptFailedException ScriptTransactionLeftOpen(ScriptStatement opened, int number) =>
        new(
            opened,
            number,
            PostgresErrorCodes.ActiveSqlTransaction,
            "the script ends inside the transaction it opened here (BEGIN or START TRANSACTION without COMMIT); it was rolled back",
            null,
            "The statements from this one on were undone.",
            "End the transaction with COMMIT in the script, or remove the BEGIN.");

    public string Describe(ScriptFailedException failure) =>
        $"statement {failure.StatementNumber} (line {failure.Statement.Line}): {failure.ErrorCode}: {failure.ServerMessage}";

    /// <summary>The lock a row proves: none for a Failed one, which records where a migration stopped even when the lock is gone.</summary>
    private LockHolder? LockProven(HistoryOutcome outcome) => outcome == HistoryOutcome.Failed ? null : database.LockHolder;

    private bool IsOpen => connection.FullState == System.Data.ConnectionState.Open;
}
