using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>Pending migrations applied in one transaction (XACT_ABORT ON) that is always rolled back; nothing is recorded.</summary>
internal sealed class SqlServerRehearsal(SqlConnection connection, SqlTransaction transaction) : IRehearsal
{
    public async Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken)
    {
        if (!step.Script.InTransaction)
        {
            throw new InvalidOperationException($"{step.File.ScriptName} cannot run inside a transaction; rehearse it on a copy instead.");
        }

        // Each migration's batches must leave the rehearsal's transaction as they found it: one level deep.
        await SqlServerMigrationTransaction.ExecuteInTransactionAsync(connection, transaction, step.Script.Statements, 0, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await SqlServerDatabase.RollBackQuietlyAsync(transaction);
        await transaction.DisposeAsync();
    }
}
