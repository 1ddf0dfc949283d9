using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// <c>migrationtasks.deploys</c>: one row per production deploy attempt and where it stands (see <see cref="DeployAttempt"/>).
/// </summary>
internal static class PostgresDeployJournal
{
    public static async Task<IReadOnlyList<DeployAttempt>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('migrationtasks.deploys') IS NOT NULL", connection, transaction))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return [];
            }
        }

        await using var command = new NpgsqlCommand(
            $"""
            SELECT {DeployAttempt.Columns}
            FROM migrationtasks.deploys ORDER BY started_at, id
            """,
            connection,
            transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await DeployAttempt.ReadAllAsync(reader, cancellationToken);
    }

    /// <summary>
    /// Inserts the attempt, or moves the recorded one to its new state, in <paramref name="transaction"/> or one of
    /// its own; the table is made the first time (the history schema must exist).
    /// </summary>
    public static async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DeployAttempt attempt, CancellationToken cancellationToken)
    {
        await using (var table = new NpgsqlCommand(PostgresHistory.DeploysTableSql, connection, transaction))
        {
            await table.ExecuteNonQueryAsync(cancellationToken);
        }

        await PostgresHistory.WriteAsConnectingUserAsync(connection, transaction, Upsert(attempt), cancellationToken);
    }

    /// <summary>The same write as SQL text with literals, for a transaction run by psql (the restore's).</summary>
    public static string UpsertSql(DeployAttempt attempt) =>
        $"""
        {PostgresHistory.DeploysTableSql};
        SET LOCAL SESSION AUTHORIZATION DEFAULT;
        SET LOCAL ROLE NONE;
        INSERT INTO migrationtasks.deploys ({DeployAttempt.Columns})
        VALUES ({Literal(attempt.Id)}, {Literal(attempt.PackageId)}, {Literal(attempt.PackageVersion)}, {Literal(attempt.Release)}, {Literal(DeployAttempt.StateName(attempt.State))},
            {Literal(attempt.StartedAt.ToString("O"))}::timestamptz, {Literal(attempt.UpdatedAt.ToString("O"))}::timestamptz,
            {Literal(attempt.BackupId)}, {Literal(attempt.BackupDirectory)}, {Literal(attempt.Detail)}, {Literal(attempt.RunnerHost)})
        {OnConflict};
        """;

    private const string OnConflict = """
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, backup_id = excluded.backup_id,
            backup_directory = excluded.backup_directory, detail = excluded.detail
        """;

    private static NpgsqlBatchCommand Upsert(DeployAttempt attempt)
    {
        var command = new NpgsqlBatchCommand(
            $"""
            INSERT INTO migrationtasks.deploys ({DeployAttempt.Columns})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            {OnConflict}
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.PackageId });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.PackageVersion });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.Release });
        command.Parameters.Add(new NpgsqlParameter { Value = DeployAttempt.StateName(attempt.State) });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.StartedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.UpdatedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)attempt.BackupId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)attempt.BackupDirectory ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.Detail });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt.RunnerHost });
        return command;
    }

    /// <summary>A dollar-quoted literal: right whatever standard_conforming_strings says, whatever the text holds.</summary>
    private static string Literal(string? value)
    {
        if (value is null)
        {
            return "NULL";
        }

        var tag = "$mt$";
        for (var i = 0; value.Contains(tag, StringComparison.Ordinal); i++)
        {
            tag = $"$mt{i}$";
        }

        return tag + value + tag;
    }
}
