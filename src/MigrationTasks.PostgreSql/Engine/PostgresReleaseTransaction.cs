using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Schema;
using MigrationTasks.Schema;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// A release in one PostgreSQL transaction (see <see cref="IReleaseTransaction"/>): Flyway's "group" and Atlas's
/// "--tx-mode all". The server rolls it back by itself when the runner dies or the connection drops before COMMIT.
/// </summary>
/// <param name="ownAtStart">The transaction's write counters at its start, when the release is a deploy's: at the
/// commit, what it wrote is recorded as the deploy's own (see <see cref="PostgresWriteCounters"/>).</param>
internal sealed class PostgresReleaseTransaction(
    PostgresDatabase database, NpgsqlConnection connection, NpgsqlTransaction transaction, ApplyContext context, IReadOnlyDictionary<uint, (long Inserted, long Updated, long Deleted)>? ownAtStart)
    : IReleaseTransaction
{
    /// <summary>
    /// What DISCARD ALL would do between two migrations, as far as it can inside a transaction: RESET ALL leaves the
    /// role alone, hence SESSION AUTHORIZATION DEFAULT (which also ends SET ROLE); DISCARD TEMP so that the next
    /// migration may make a temp table of the same name; CLOSE ALL for cursors left open.
    /// </summary>
    private static readonly string[] BetweenMigrations = ["CLOSE ALL", "SET SESSION AUTHORIZATION DEFAULT", "RESET ALL", "DISCARD TEMP"];

    private readonly PostgresMigrationTransaction _migrations = new(database, connection, transaction, context);

    private bool _committed;
    private bool _started;
    private bool _disposed;

    public async Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken)
    {
        MigrationApplier.RequireTransactional(step);
        await ResetAsync(cancellationToken);
        await MigrationApplier.ApplyInAsync(_migrations, step, cancellationToken);
    }

    public async Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken)
    {
        await ResetAsync(cancellationToken);
        return await SchemaSnapshotReader.ReadAsync(connection, transaction, null, cancellationToken);
    }

    public async Task<TestRun> RunQueryAsync(PreparedScript query, CancellationToken cancellationToken)
    {
        await ResetAsync(cancellationToken);
        // A savepoint keeps the query's changes (and an error, which aborts the transaction) from the release.
        await ExecuteAsync("SAVEPOINT migrationtasks_query", cancellationToken);
        var run = await PostgresDatabase.RunQueryAsync(connection, transaction, query, cancellationToken);
        if (connection.FullState != System.Data.ConnectionState.Open && run.Error?.InnerException is { } lost)
        {
            // Not the query's failure: the session is gone (terminated, the server stopped), and the release with it.
            throw lost;
        }

        await ExecuteAsync("ROLLBACK TO SAVEPOINT migrationtasks_query", cancellationToken);
        await ExecuteAsync("RELEASE SAVEPOINT migrationtasks_query", cancellationToken);
        return run;
    }

    public async Task CommitAsync(DeployAttempt attempt, CancellationToken cancellationToken)
    {
        await ResetAsync(cancellationToken);
        if (ownAtStart is not null)
        {
            await PostgresWriteCounters.RecordOwnAsync(connection, transaction, context.DeployId!, ownAtStart, cancellationToken);
        }

        await PostgresDeployJournal.RecordAsync(connection, transaction, attempt, cancellationToken);
        if (database.LockHolder is { } holder)
        {
            // The last moment a lost lock can still stop the release: after this, it is committed.
            var proof = new NpgsqlBatchCommand($"SELECT 1 WHERE {PostgresHistory.LockProof(1)}");
            PostgresHistory.AddLockHolder(proof, holder);
            await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { proof } };
            if (await batch.ExecuteScalarAsync(cancellationToken) is null)
            {
                throw PostgresHistory.LockLost(holder, null);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_committed && connection.FullState == System.Data.ConnectionState.Open)
        {
            try
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection broke: the server rolls the transaction back when the session ends.
            }
        }

        await transaction.DisposeAsync();
        if (connection.FullState == System.Data.ConnectionState.Open)
        {
            await database.ResetSessionAsync(CancellationToken.None);
        }
    }

    /// <summary>Before each migration (and before the runner's own reads): a clean session, and the runner's lock timeout.</summary>
    private async Task ResetAsync(CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (_started)
        {
            foreach (var statement in BetweenMigrations)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(statement));
            }
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL idle_in_transaction_session_timeout = 0"));
        if (PostgresDatabase.DeploySessionNameOf(context) is { } name)
        {
            // RESET ALL put the connection's own application_name back: a later run must still tell this session by it.
            var setName = new NpgsqlBatchCommand("SELECT pg_catalog.set_config('application_name', $1, true)");
            setName.Parameters.Add(new NpgsqlParameter { Value = name });
            batch.BatchCommands.Add(setName);
        }

        if (PostgresDatabase.LockTimeoutSql(context, local: true) is { Length: > 0 } lockTimeout)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(lockTimeout));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        _started = true;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
