using System.Data;
using System.Diagnostics;
using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// A release in one SQL Server transaction (see <see cref="IReleaseTransaction"/>), on a session of its own with
/// XACT_ABORT ON: any run-time error rolls all of it back, and the server rolls it back by itself when the runner
/// dies or the connection drops before COMMIT.
/// </summary>
internal sealed class SqlServerReleaseTransaction : IReleaseTransaction
{
    /// <summary>
    /// Before a Verify/ query: a savepoint to undo what it changes, and a nested level so that a stray COMMIT in it
    /// only takes that level back instead of committing the release before it is verified.
    /// </summary>
    internal const string BeforeQuerySql = "SAVE TRANSACTION migrationtasks_query;\nBEGIN TRANSACTION;";

    /// <summary>After a query that left the release's transaction usable: its own levels closed, what it did undone.</summary>
    internal const string AfterQuerySql = "WHILE @@TRANCOUNT > 1 COMMIT TRANSACTION;\nROLLBACK TRANSACTION migrationtasks_query;";

    internal const string TransactionStateSql = "SELECT @@TRANCOUNT, XACT_STATE()";

    private readonly SqlServerDatabase _database;
    private readonly SqlConnection _connection;
    private readonly SqlTransaction _transaction;
    private readonly SqlServerMigrationTransaction _migrations;
    private readonly SqlServerSessionBaseline _baseline;
    private readonly int _commandTimeout;

    /// <summary>What ended the transaction on the server before the runner's rollback (a query's error or ROLLBACK).</summary>
    private string? _endedBy;
    private bool _committed;
    private bool _disposed;

    private SqlServerReleaseTransaction(
        SqlServerDatabase database, SqlConnection connection, SqlTransaction transaction, ApplyContext context, SqlServerSessionBaseline baseline, int commandTimeout)
    {
        _database = database;
        _connection = connection;
        _transaction = transaction;
        _migrations = new SqlServerMigrationTransaction(connection, transaction, context, baseline, commandTimeout);
        _baseline = baseline;
        _commandTimeout = commandTimeout;
    }

    /// <param name="settings">The database's connection, its session named as the deploy's (see SqlServerConnections.DeploySessionName).</param>
    public static async Task<SqlServerReleaseTransaction> BeginAsync(
        SqlServerDatabase database, SqlConnectionStringBuilder settings, ApplyContext context, CancellationToken cancellationToken)
    {
        var connection = await SqlServerDatabase.OpenConnectionAsync(settings, cancellationToken);
        try
        {
            var baseline = await SqlServerSessionBaseline.BeginAsync(connection, context.StatementLockTimeout, cancellationToken);
            var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
            return new SqlServerReleaseTransaction(database, connection, transaction, context, baseline, settings.CommandTimeout);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken)
    {
        MigrationApplier.RequireTransactional(step);
        ThrowIfEnded();
        await _database.ProveLockAsync(cancellationToken);
        await MigrationApplier.ApplyInAsync(_migrations, step, cancellationToken);
    }

    public async Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken)
    {
        ThrowIfEnded();
        return await SqlServerSchemaReader.ReadAsync(_connection, _transaction, cancellationToken);
    }

    /// <summary>
    /// Runs a Verify/ query inside the release's transaction. Its failure comes back in the run, never as an
    /// exception, except when the connection is gone. With XACT_ABORT ON a run-time error rolls the whole release
    /// back on the server (a compile error does not): the release can then not commit, and the queries after it are
    /// not run; the runner rolls back, which is what a failed verification means anyway.
    /// </summary>
    public async Task<TestRun> RunQueryAsync(PreparedScript query, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (Ended is { } ended)
        {
            var notRun = query.Statements.Count == 0
                ? null
                : new ScriptFailedException(query.Statements[0], 1, "not run", $"not run: the release's transaction was rolled back before this query ({ended})", null, null, null);
            return new LastResultSet().ToRun(notRun, clock.Elapsed);
        }

        await ExecuteAsync(BeforeQuerySql, cancellationToken);
        var (result, error) = await SqlServerDatabase.RunQueryAsync(_connection, _transaction, query, _commandTimeout, LeftQueryLevelAsync, cancellationToken);
        if (_connection.State != ConnectionState.Open && error?.InnerException is SqlException lost)
        {
            // Not the query's failure: the session is gone (killed, the server stopped), and the release with it.
            throw lost;
        }

        var (count, state) = _transaction.Connection is null ? (0, 0) : await TransactionStateAsync(cancellationToken);
        if (count == 0 || state == -1)
        {
            // Rolled back by the server (XACT_ABORT) or by the query's own ROLLBACK, or doomed (uncommittable).
            _endedBy = $"{Path.GetFileName(query.Path)}: {error?.Message ?? "it rolled the transaction back"}";
            await SqlServerDatabase.RollBackQuietlyAsync(_transaction);
            error ??= SqlServerErrors.TransactionEnded(query.Statements[^1], query.Statements.Count, SqlServerDatabase.QueryEndedTransaction, null);
            return result.ToRun(error, clock.Elapsed);
        }

        await ExecuteAsync(AfterQuerySql, cancellationToken);
        if (!await _baseline.RestoreAsync(_connection, _transaction, cancellationToken))
        {
            _endedBy = $"{Path.GetFileName(query.Path)} left the session running as another user";
            await SqlServerDatabase.RollBackQuietlyAsync(_transaction);
            error ??= new ScriptFailedException(query.Statements[^1], query.Statements.Count, "EXECUTE AS", SqlServerSessionBaseline.StillImpersonating, null, null, null);
        }

        return result.ToRun(error, clock.Elapsed);
    }

    public async Task CommitAsync(DeployAttempt attempt, CancellationToken cancellationToken)
    {
        ThrowIfEnded();
        await SqlServerDeployJournal.RecordAsync(_connection, _transaction, attempt, cancellationToken);
        // The last moment a lost lock can still stop the release: after this, it is committed.
        await _database.ProveLockAsync(cancellationToken);
        await _transaction.CommitAsync(cancellationToken);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_committed)
        {
            await SqlServerDatabase.RollBackQuietlyAsync(_transaction);
        }

        await _transaction.DisposeAsync();
        // Ending the session ends anything left (a transaction the rollback could not reach, the session's settings).
        await _connection.DisposeAsync();
    }

    /// <summary>Why nothing more can run in the transaction, or null while it is open.</summary>
    private string? Ended =>
        _committed ? "it was committed"
        : _endedBy ?? (_transaction.Connection is null ? "an error rolled it back" : null);

    private void ThrowIfEnded()
    {
        if (Ended is { } ended)
        {
            throw new InvalidOperationException($"the release's transaction on {_database.DisplayName} can take nothing more: {ended}.");
        }
    }

    /// <summary>After each batch of a query: true when it took the release's transaction below the query's own level.</summary>
    private async Task<bool> LeftQueryLevelAsync(CancellationToken cancellationToken) =>
        _transaction.Connection is null || (await TransactionStateAsync(cancellationToken)).Count < 2;

    private async Task<(int Count, int State)> TransactionStateAsync(CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(TransactionStateSql, _connection, _transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt32(0), reader.GetInt16(1));
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(sql, _connection, _transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
