using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// The history table <c>migrationtasks.history</c>: one row per attempt to apply a script. Schema-qualified in every
/// statement because a migration may change the session's search_path, and written as the connecting user because a
/// migration may change the session's role.
/// </summary>
internal static class PostgresHistory
{
    private const string Columns =
        "id, version, description, script, checksum_sha256, statements_applied, statements_total, " +
        "applied_statements_sha256, outcome, started_at, finished_at, error";

    public static async Task EnsureTableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            CREATE SCHEMA IF NOT EXISTS migrationtasks;
            CREATE TABLE IF NOT EXISTS migrationtasks.history (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                version text,
                description text NOT NULL,
                script text NOT NULL,
                kind text NOT NULL,
                checksum_sha256 text NOT NULL,
                statements_applied integer NOT NULL,
                statements_total integer NOT NULL,
                applied_statements_sha256 text NOT NULL,
                outcome text NOT NULL CHECK (outcome IN ('success', 'failed', 'running')),
                started_at timestamptz NOT NULL,
                finished_at timestamptz,
                error text,
                applied_by_user text NOT NULL DEFAULT current_user,
                applied_by_host text NOT NULL,
                package_id text,
                package_version text
            );
            """,
            connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<IReadOnlyList<HistoryEntry>> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('migrationtasks.history') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return [];
            }
        }

        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM migrationtasks.history ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<HistoryEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(HistoryEntry.Read(reader));
        }

        return rows;
    }

    private static NpgsqlBatchCommand Insert(MigrationStep step, ApplyContext context, string outcome, int statementsApplied, DateTimeOffset startedAt, string? error)
    {
        var command = new NpgsqlBatchCommand(
            """
            INSERT INTO migrationtasks.history (version, description, script, kind, checksum_sha256, statements_applied,
                statements_total, applied_statements_sha256, outcome, started_at, finished_at, error, applied_by_host,
                package_id, package_version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $9 = 'running' THEN NULL ELSE clock_timestamp() END,
                $11, $12, $13, $14)
            RETURNING id
            """);
        var file = step.File;
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)file.Version?.Canonical ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = file.Description });
        command.Parameters.Add(new NpgsqlParameter { Value = file.ScriptName });
        command.Parameters.Add(new NpgsqlParameter { Value = file.Kind.ToString().ToLowerInvariant() });
        command.Parameters.Add(new NpgsqlParameter { Value = file.Checksum });
        command.Parameters.Add(new NpgsqlParameter { Value = statementsApplied });
        command.Parameters.Add(new NpgsqlParameter { Value = step.Script.Statements.Count });
        command.Parameters.Add(new NpgsqlParameter { Value = StatementChecksum.Of(step.Script.Statements, statementsApplied) });
        command.Parameters.Add(new NpgsqlParameter { Value = outcome });
        command.Parameters.Add(new NpgsqlParameter { Value = startedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = context.AppliedByHost });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)context.PackageId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)context.PackageVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        return command;
    }

    /// <summary>
    /// Adds a row for an attempt, inside <paramref name="transaction"/> (the migration's) or else in a transaction of
    /// its own, and returns its id.
    /// </summary>
    public static async Task<long> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, MigrationStep step, ApplyContext context, string outcome, int statementsApplied, DateTimeOffset startedAt, string? error, CancellationToken cancellationToken) =>
        (long)(await WriteAsConnectingUserAsync(connection, transaction, Insert(step, context, outcome, statementsApplied, startedAt, error), cancellationToken))!;

    /// <summary>Records how far a non-transactional migration got, after each statement.</summary>
    public static async Task UpdateProgressAsync(NpgsqlConnection connection, long id, MigrationStep step, int statementsApplied, string outcome, string? error, CancellationToken cancellationToken)
    {
        var command = new NpgsqlBatchCommand(
            """
            UPDATE migrationtasks.history
            SET statements_applied = $2, applied_statements_sha256 = $3, outcome = $4, error = $5,
                finished_at = CASE WHEN $4 = 'running' THEN NULL ELSE clock_timestamp() END
            WHERE id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = statementsApplied });
        command.Parameters.Add(new NpgsqlParameter { Value = StatementChecksum.Of(step.Script.Statements, statementsApplied) });
        command.Parameters.Add(new NpgsqlParameter { Value = outcome });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await WriteAsConnectingUserAsync(connection, null, command, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="write"/> as the user the connection logged in as. A migration may switch the session to
    /// a role that has no rights on migrationtasks (SET ROLE, SET SESSION AUTHORIZATION) and leave it so, as a file
    /// run with psql may: its session ends with the file. SET LOCAL switches back for this transaction only, so that
    /// in a migration run statement by statement the script's next statement still runs as the script chose.
    /// </summary>
    private static async Task<object?> WriteAsConnectingUserAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NpgsqlBatchCommand write, CancellationToken cancellationToken)
    {
        var own = transaction is null ? await TryBeginAsync(connection, cancellationToken) : null;
        try
        {
            await using var batch = new NpgsqlBatch(connection, transaction ?? own);
            if (transaction is not null || own is not null)
            {
                // SESSION AUTHORIZATION DEFAULT also ends SET ROLE; ROLE NONE says so.
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL SESSION AUTHORIZATION DEFAULT"));
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL ROLE NONE"));
            }

            batch.BatchCommands.Add(write);
            var result = await batch.ExecuteScalarAsync(cancellationToken);
            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }

            return result;
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A new transaction, or null when a script run statement by statement opened one with BEGIN and has not ended it
    /// (Npgsql refuses a nested one): the row is then written in the script's transaction, as whoever the script is.
    /// </summary>
    private static async Task<NpgsqlTransaction?> TryBeginAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.BeginTransactionAsync(cancellationToken);
        }
        catch (InvalidOperationException) when (connection.FullState == System.Data.ConnectionState.Open)
        {
            return null;
        }
    }
}
