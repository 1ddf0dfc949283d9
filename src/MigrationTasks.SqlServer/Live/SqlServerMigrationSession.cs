using System.Data;
using System.Diagnostics;
using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The migration session of a <see cref="SqlServerDatabase"/> (a fresh one per migration), for
/// <see cref="MigrationApplier"/>. The deploy lock is proven on the lock's own session (see
/// <see cref="SqlServerDatabase.ProveLockAsync"/>): before the migration, before each batch run outside a
/// transaction, and before the commit.
/// </summary>
internal sealed class SqlServerMigrationSession(SqlServerDatabase database, SqlConnection connection, ApplyContext context, int commandTimeout) : IMigrationSession
{
    /// <summary>When the migration's own transaction began: a failed attempt's row says so.</summary>
    private DateTimeOffset _transactionStartedAt = DateTimeOffset.UtcNow;

    /// <summary>
    /// No: SqlClient reports a batch cancelled while it ran as a server error, which is recorded as a failure; a
    /// cancellation before the batch was sent leaves the row running, as it always has on SQL Server.
    /// </summary>
    public bool RecordsCancellation => false;

    public Task<IOwnTransaction> BeginTransactionAsync(CancellationToken cancellationToken)
    {
        _transactionStartedAt = DateTimeOffset.UtcNow;
        return SqlServerOwnTransaction.BeginAsync(connection, context, commandTimeout, cancellationToken);
    }

    public async Task<long> InsertAsync(MigrationStep step, HistoryOutcome outcome, int statementsApplied, string? error, CancellationToken cancellationToken)
    {
        if (outcome != HistoryOutcome.Failed)
        {
            return await SqlServerHistory.InsertAsync(connection, null, step, context, outcome, statementsApplied, DateTimeOffset.UtcNow, error, cancellationToken);
        }

        // A failed transactional attempt's row, after its rollback. The rollback does not end an EXECUTE AS the script
        // left: written as that user, the row may be refused, and the migration's own failure is the one to report.
        if (connection.State != ConnectionState.Open)
        {
            return 0;
        }

        try
        {
            return await SqlServerHistory.InsertAsync(connection, null, step, context, outcome, statementsApplied, _transactionStartedAt, error, cancellationToken);
        }
        catch (SqlException)
        {
            return 0;
        }
    }

    public async Task ExecuteAsync(MigrationStep step, int index, CancellationToken cancellationToken)
    {
        var batch = step.Script.Statements[index];
        try
        {
            await using var command = new SqlCommand(batch.Text, connection) { CommandTimeout = commandTimeout };
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqlException e)
        {
            throw SqlServerErrors.Failure(e, batch, index + 1);
        }
    }

    /// <summary>The last batch's row turns into a success, which the unique index refuses when another deploy's success took its place.</summary>
    public async Task<bool> UpdateAsync(long id, MigrationStep step, int statementsApplied, HistoryOutcome outcome, string? error, CancellationToken cancellationToken)
    {
        await SqlServerHistory.UpdateProgressAsync(connection, id, step, statementsApplied, outcome, error, cancellationToken);
        return false;
    }

    public Task ProveLockAsync(CancellationToken cancellationToken) => database.ProveLockAsync(cancellationToken);

    /// <summary>SQL Server keeps no write counters the runner could measure a stretch with.</summary>
    public Task BeginStretchAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task EndStretchAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Not asked: <see cref="UpdateAsync"/> never reports a transaction the script opened.</summary>
    public Task RollBackScriptTransactionAsync() => throw new UnreachableException("SQL Server's progress rows report no transaction of the script's.");

    /// <summary>Not asked: <see cref="UpdateAsync"/> never reports a transaction the script opened.</summary>
    public ScriptFailedException ScriptTransactionLeftOpen(ScriptStatement opened, int number) =>
        throw new UnreachableException("SQL Server's progress rows report no transaction of the script's.");

    public string Describe(ScriptFailedException failure) => SqlServerErrors.Describe(failure);
}
