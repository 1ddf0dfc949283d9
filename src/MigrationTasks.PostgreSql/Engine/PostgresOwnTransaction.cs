using MigrationTasks.Applying;
using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// One migration's own PostgreSQL transaction, with the runner's statement lock timeout. A deploy's migration runs in a
/// savepoint: when it fails, what it wrote (rolled back, yet counted by the server) is still recorded as the deploy's
/// own, so that a restore does not take it for someone else's (see <see cref="PostgresWriteCounters"/>).
/// </summary>
internal sealed class PostgresOwnTransaction : IOwnTransaction
{
    private const string Savepoint = "migrationtasks_migration";

    private readonly PostgresMigrationTransaction _migration;
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly ApplyContext _context;

    /// <summary>The transaction's write counters at its start, for a deploy's migration; null otherwise.</summary>
    private readonly IReadOnlyDictionary<uint, (long Inserted, long Updated, long Deleted)>? _ownAtStart;

    private PostgresOwnTransaction(
        PostgresDatabase database, NpgsqlConnection connection, NpgsqlTransaction transaction, ApplyContext context, IReadOnlyDictionary<uint, (long, long, long)>? ownAtStart)
    {
        _migration = new PostgresMigrationTransaction(database, connection, transaction, context);
        _connection = connection;
        _transaction = transaction;
        _context = context;
        _ownAtStart = ownAtStart;
    }

    public static async Task<IOwnTransaction> BeginAsync(PostgresDatabase database, NpgsqlConnection connection, ApplyContext context, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            if (PostgresDatabase.LockTimeoutSql(context, local: true) is { Length: > 0 } lockTimeout)
            {
                await ExecuteAsync(connection, transaction, lockTimeout, cancellationToken);
            }

            var ownAtStart = context.DeployId is null ? null : await PostgresWriteCounters.OwnAsync(connection, transaction, cancellationToken);
            if (ownAtStart is not null)
            {
                await ExecuteAsync(connection, transaction, $"SAVEPOINT {Savepoint}", cancellationToken);
            }

            return new PostgresOwnTransaction(database, connection, transaction, context, ownAtStart);
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    public Task<long> ClaimAsync(MigrationStep step, CancellationToken cancellationToken) => _migration.ClaimAsync(step, cancellationToken);

    public Task ExecuteAsync(MigrationStep step, CancellationToken cancellationToken) => _migration.ExecuteAsync(step, cancellationToken);

    public Task CompleteClaimAsync(long claim, MigrationStep step, CancellationToken cancellationToken) => _migration.CompleteClaimAsync(claim, step, cancellationToken);

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_ownAtStart is not null)
        {
            await PostgresWriteCounters.RecordOwnAsync(_connection, _transaction, _context.DeployId!, _ownAtStart, cancellationToken);
        }

        await _transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// For a deploy's migration: rolls the migration back to its savepoint, keeps the record of what it wrote, and
    /// commits only that. Without a deploy, or when the session broke, a plain rollback.
    /// </summary>
    public async Task RollBackAsync()
    {
        if (_ownAtStart is not null && IsOpen)
        {
            try
            {
                await ExecuteAsync(_connection, _transaction, $"ROLLBACK TO SAVEPOINT {Savepoint}", CancellationToken.None);
                await PostgresWriteCounters.RecordOwnAsync(_connection, _transaction, _context.DeployId!, _ownAtStart, CancellationToken.None);
                await _transaction.CommitAsync(CancellationToken.None);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The session is gone: the server rolls back; what it wrote stays unaccounted for (see PostgresWriteCounters).
            }
        }

        if (IsOpen)
        {
            await _transaction.RollbackAsync(CancellationToken.None);
        }
    }

    public ValueTask DisposeAsync() => _transaction.DisposeAsync();

    private bool IsOpen => _connection.FullState == System.Data.ConnectionState.Open;

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
