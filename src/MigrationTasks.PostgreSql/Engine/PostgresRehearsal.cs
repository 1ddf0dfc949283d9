using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>Pending migrations applied in one transaction that is always rolled back; nothing is recorded.</summary>
internal sealed class PostgresRehearsal(NpgsqlConnection connection, NpgsqlTransaction transaction) : IRehearsal
{
    public async Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken)
    {
        if (!step.Script.InTransaction)
        {
            throw new InvalidOperationException($"{step.File.ScriptName} cannot run inside a transaction; rehearse it on a copy instead.");
        }

        await PostgresDatabase.ExecuteBatchedAsync(connection, transaction, step.Script.Statements, cancellationToken);

        // In production each migration starts from a clean session; inside one transaction RESET ALL is the
        // nearest equivalent (DISCARD ALL cannot run in a transaction block).
        await using var reset = new NpgsqlCommand("RESET ALL", connection, transaction);
        await reset.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.RollbackAsync(CancellationToken.None);
        await transaction.DisposeAsync();
    }
}
