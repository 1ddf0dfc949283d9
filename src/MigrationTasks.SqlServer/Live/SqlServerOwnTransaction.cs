using MigrationTasks.Applying;
using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// One migration's own SQL Server transaction, with XACT_ABORT ON and the statement lock timeout (see
/// <see cref="SqlServerSessionBaseline.BeginSql"/>): the session is the migration's alone, so they end with it.
/// </summary>
internal sealed class SqlServerOwnTransaction : IOwnTransaction
{
    private readonly SqlServerMigrationTransaction _migration;
    private readonly SqlTransaction _transaction;

    private SqlServerOwnTransaction(SqlConnection connection, SqlTransaction transaction, ApplyContext context, SqlServerSessionBaseline baseline, int commandTimeout)
    {
        _migration = new SqlServerMigrationTransaction(connection, transaction, context, baseline, commandTimeout);
        _transaction = transaction;
    }

    public static async Task<IOwnTransaction> BeginAsync(SqlConnection connection, ApplyContext context, int commandTimeout, CancellationToken cancellationToken)
    {
        var baseline = await SqlServerSessionBaseline.BeginAsync(connection, context.StatementLockTimeout, cancellationToken);
        var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
        return new SqlServerOwnTransaction(connection, transaction, context, baseline, commandTimeout);
    }

    public Task<long> ClaimAsync(MigrationStep step, CancellationToken cancellationToken) => _migration.ClaimAsync(step, cancellationToken);

    public Task ExecuteAsync(MigrationStep step, CancellationToken cancellationToken) => _migration.ExecuteAsync(step, cancellationToken);

    public Task CompleteClaimAsync(long claim, MigrationStep step, CancellationToken cancellationToken) => _migration.CompleteClaimAsync(claim, step, cancellationToken);

    public Task CommitAsync(CancellationToken cancellationToken) => _transaction.CommitAsync(cancellationToken);

    public Task RollBackAsync() => SqlServerDatabase.RollBackQuietlyAsync(_transaction);

    public ValueTask DisposeAsync() => _transaction.DisposeAsync();
}
