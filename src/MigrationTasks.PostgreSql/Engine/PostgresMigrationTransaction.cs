using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// Migrations and their history claims in an open PostgreSQL transaction: a migration's own
/// (<see cref="PostgresOwnTransaction"/>) or a release's (<see cref="PostgresReleaseTransaction"/>). The claim proves
/// the deploy lock in the same statement (see <see cref="PostgresHistory.LockProof"/>).
/// </summary>
internal sealed class PostgresMigrationTransaction(PostgresDatabase database, NpgsqlConnection connection, NpgsqlTransaction transaction, ApplyContext context)
    : IMigrationTransaction
{
    /// <summary>
    /// Statements sent per round trip. Batching is what lets a 10,000-statement file apply at psql's speed while an
    /// error still names its exact statement (Npgsql reports the failing command).
    /// </summary>
    private const int StatementsPerBatch = 200;

    public Task<long> ClaimAsync(MigrationStep step, CancellationToken cancellationToken) =>
        PostgresHistory.ClaimAsync(connection, transaction, step, context, database.LockHolder, cancellationToken);

    public Task ExecuteAsync(MigrationStep step, CancellationToken cancellationToken) =>
        ExecuteBatchedAsync(connection, transaction, step.Script.Statements, cancellationToken);

    public Task CompleteClaimAsync(long claim, MigrationStep step, CancellationToken cancellationToken) =>
        PostgresHistory.CompleteClaimAsync(connection, transaction, claim, step, cancellationToken);

    /// <summary>Runs statements in batches inside a transaction; a failure names its statement.</summary>
    internal static async Task ExecuteBatchedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ScriptStatement> statements, CancellationToken cancellationToken)
    {
        for (var first = 0; first < statements.Count; first += StatementsPerBatch)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var statement in statements.Skip(first).Take(StatementsPerBatch))
            {
                batch.BatchCommands.Add(VerbatimSql.BatchCommand(statement.Text));
            }

            try
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e)
            {
                var index = e.BatchCommand is null ? 0 : batch.BatchCommands.IndexOf(e.BatchCommand);
                throw PostgresDatabase.Failure(e, statements[first + index], first + index + 1);
            }
        }
    }
}
