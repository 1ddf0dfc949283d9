using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// Migrations and their history claims in an open SQL Server transaction begun with XACT_ABORT ON: a migration's own
/// (<see cref="SqlServerOwnTransaction"/>) or a release's (<see cref="SqlServerReleaseTransaction"/>).
/// </summary>
/// <param name="baseline">The session as the transaction began it, put back after each migration's batches.</param>
internal sealed class SqlServerMigrationTransaction(
    SqlConnection connection, SqlTransaction transaction, ApplyContext context, SqlServerSessionBaseline baseline, int commandTimeout)
    : IMigrationTransaction
{
    public Task<long> ClaimAsync(MigrationStep step, CancellationToken cancellationToken) =>
        SqlServerHistory.ClaimAsync(connection, transaction, step, context, cancellationToken);

    public async Task ExecuteAsync(MigrationStep step, CancellationToken cancellationToken)
    {
        await ExecuteInTransactionAsync(connection, transaction, step.Script.Statements, commandTimeout, cancellationToken);
        // The history rows, and the next migration in the same transaction, start from the session the transaction began with.
        await baseline.RestoreAfterAsync(connection, transaction, step.Script.Statements, cancellationToken);
    }

    public Task CompleteClaimAsync(long claim, MigrationStep step, CancellationToken cancellationToken) =>
        SqlServerHistory.CompleteClaimAsync(connection, transaction, claim, step, cancellationToken);

    /// <summary>Runs batches inside the migration's transaction, checking @@TRANCOUNT after each (see <see cref="TransactionCountRule"/>).</summary>
    internal static async Task ExecuteInTransactionAsync(
        SqlConnection connection, SqlTransaction transaction, IReadOnlyList<ScriptStatement> batches, int commandTimeout, CancellationToken cancellationToken)
    {
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            try
            {
                await using var command = new SqlCommand(batch.Text, connection, transaction) { CommandTimeout = commandTimeout };
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqlException e)
            {
                throw SqlServerErrors.Failure(e, batch, i + 1);
            }
            catch (InvalidOperationException e) when (transaction.Connection is null)
            {
                // A previous batch's COMMIT/ROLLBACK was seen by SqlClient only now.
                throw SqlServerErrors.TransactionEnded(batch, i + 1, TransactionCountRule.Check(0, false)!, e);
            }

            // SqlClient forgets a transaction the server ended (Connection becomes null): @@TRANCOUNT is then 0.
            var count = transaction.Connection is null ? 0 : await TranCountAsync(connection, transaction, cancellationToken);
            if (TransactionCountRule.Check(count, i == batches.Count - 1) is { } problem)
            {
                throw SqlServerErrors.TransactionEnded(batch, i + 1, problem, null);
            }
        }
    }

    private static async Task<int> TranCountAsync(SqlConnection connection, SqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand("SELECT @@TRANCOUNT", connection, transaction);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
