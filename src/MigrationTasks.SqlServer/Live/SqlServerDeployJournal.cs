using System.Data;
using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// <c>migrationtasks.deploys</c>: one row per production deploy attempt and where it stands (see <see cref="DeployAttempt"/>).
/// </summary>
internal static class SqlServerDeployJournal
{
    internal const string ExistsSql = "SELECT CASE WHEN OBJECT_ID(N'migrationtasks.deploys', N'U') IS NULL THEN 0 ELSE 1 END";

    internal const string ReadSql = $"""
        SELECT {DeployAttempt.Columns}
        FROM migrationtasks.deploys ORDER BY started_at, id
        """;

    internal static readonly string CreateSql = "IF OBJECT_ID(N'migrationtasks.deploys', N'U') IS NULL\n" + SqlServerHistory.DeploysTableSql;

    /// <summary>
    /// Inserts the attempt or moves the recorded one to its new state. UPDLOCK and SERIALIZABLE hold the key (or the
    /// gap where it would be) from the UPDATE to the INSERT, so that two writers of one id cannot both insert.
    /// </summary>
    internal const string UpsertSql = $"""
        UPDATE migrationtasks.deploys WITH (UPDLOCK, SERIALIZABLE)
        SET state = @state, updated_at = @updatedAt, backup_id = @backupId, backup_directory = @backupDirectory, detail = @detail
        WHERE id = @id;
        IF @@ROWCOUNT = 0
            INSERT INTO migrationtasks.deploys ({DeployAttempt.Columns})
            VALUES (@id, @packageId, @packageVersion, @release, @state, @startedAt, @updatedAt, @backupId, @backupDirectory, @detail, @host);
        """;

    public static async Task<bool> ExistsAsync(SqlConnection connection, SqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var exists = new SqlCommand(ExistsSql, connection, transaction);
        return (int)(await exists.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    /// <summary>Every recorded attempt, oldest first; empty when the table does not exist (no deploy recorded one yet).</summary>
    public static async Task<IReadOnlyList<DeployAttempt>> ReadAsync(SqlConnection connection, SqlTransaction? transaction, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, transaction, cancellationToken))
        {
            return [];
        }

        await using var command = new SqlCommand(ReadSql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await DeployAttempt.ReadAllAsync(reader, cancellationToken);
    }

    /// <summary>
    /// Records the attempt in <paramref name="transaction"/> (the release's), or in a transaction of its own; the
    /// table is made the first time (the history schema must exist).
    /// </summary>
    public static async Task RecordAsync(SqlConnection connection, SqlTransaction? transaction, DeployAttempt attempt, CancellationToken cancellationToken)
    {
        var own = transaction is null ? (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            await using (var create = new SqlCommand(CreateSql, connection, transaction ?? own))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var upsert = Upsert(attempt, connection, transaction ?? own))
            {
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }

            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    private static SqlCommand Upsert(DeployAttempt attempt, SqlConnection connection, SqlTransaction? transaction)
    {
        var command = new SqlCommand(UpsertSql, connection, transaction);
        SqlServerHistory.Add(command, "@id", attempt.Id);
        SqlServerHistory.Add(command, "@packageId", attempt.PackageId);
        SqlServerHistory.Add(command, "@packageVersion", attempt.PackageVersion);
        SqlServerHistory.Add(command, "@release", attempt.Release);
        SqlServerHistory.Add(command, "@state", DeployAttempt.StateName(attempt.State));
        command.Parameters.Add(new SqlParameter("@startedAt", SqlDbType.DateTimeOffset) { Value = attempt.StartedAt });
        command.Parameters.Add(new SqlParameter("@updatedAt", SqlDbType.DateTimeOffset) { Value = attempt.UpdatedAt });
        SqlServerHistory.Add(command, "@backupId", attempt.BackupId);
        SqlServerHistory.Add(command, "@backupDirectory", attempt.BackupDirectory);
        SqlServerHistory.Add(command, "@detail", attempt.Detail);
        SqlServerHistory.Add(command, "@host", attempt.RunnerHost);
        return command;
    }
}
