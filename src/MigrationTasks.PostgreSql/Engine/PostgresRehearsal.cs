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

        await PostgresMigrationTransaction.ExecuteBatchedAsync(connection, transaction, step.Script.Statements, cancellationToken);

        // On deploy each migration starts from a clean session (DISCARD ALL); DISCARD ALL cannot run in a transaction
        // block, so its parts that can stand in: RESET ALL leaves the role alone, hence SESSION AUTHORIZATION DEFAULT
        // (which also ends SET ROLE), and DISCARD TEMP so that the next migration may make a temp table of the same name.
        await using var reset = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands = { new("SET SESSION AUTHORIZATION DEFAULT"), new("RESET ALL"), new("DISCARD TEMP") },
        };
        await reset.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.RollbackAsync(CancellationToken.None);
        await transaction.DisposeAsync();
    }
}
