using System.Data;
using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The history table <c>migrationtasks.history</c>, with the columns of PostgreSQL's: one row per attempt to apply
/// a script. Schema-qualified in every statement because a migration may change the user's default schema.
/// </summary>
internal static class SqlServerHistory
{
    public const string Schema = "migrationtasks";

    private const string Columns =
        "id, version, description, script, checksum_sha256, statements_applied, statements_total, " +
        "applied_statements_sha256, outcome, started_at, finished_at, error";

    /// <summary>
    /// The table as DacFx models it too: a dev deploy plans from a dacpac that also holds it (with
    /// <see cref="ModelScripts"/>), so that DropObjectsNotInSource leaves it alone. Constraint names are explicit and
    /// the CHECK and DEFAULT are written as the server stores them (sys.check_constraints, sys.default_constraints),
    /// so that the model and the live table compare equal: DacFx compares constraint text.
    /// </summary>
    internal const string TableSql = """
        CREATE TABLE migrationtasks.history (
            id bigint IDENTITY(1, 1) NOT NULL CONSTRAINT pk_migrationtasks_history PRIMARY KEY,
            version nvarchar(200) NULL,
            description nvarchar(1000) NOT NULL,
            script nvarchar(400) NOT NULL,
            kind nvarchar(20) NOT NULL,
            checksum_sha256 nvarchar(64) NOT NULL,
            statements_applied int NOT NULL,
            statements_total int NOT NULL,
            applied_statements_sha256 nvarchar(64) NOT NULL,
            outcome nvarchar(10) NOT NULL CONSTRAINT ck_migrationtasks_history_outcome CHECK ([outcome]=N'success' OR [outcome]=N'failed' OR [outcome]=N'running'),
            started_at datetimeoffset(7) NOT NULL,
            finished_at datetimeoffset(7) NULL,
            error nvarchar(max) NULL,
            applied_by_user nvarchar(128) NOT NULL CONSTRAINT df_migrationtasks_history_user DEFAULT (original_login()),
            applied_by_host nvarchar(128) NOT NULL,
            package_id nvarchar(200) NULL,
            package_version nvarchar(100) NULL
        );
        """;

    /// <summary>CREATE SCHEMA must be the only statement of its batch, hence EXEC.</summary>
    internal const string CreateTableSql =
        "IF SCHEMA_ID(N'migrationtasks') IS NULL EXEC(N'CREATE SCHEMA migrationtasks');\n" +
        "IF OBJECT_ID(N'migrationtasks.history', N'U') IS NULL\n" + TableSql;

    /// <summary>The history schema and table as model scripts, one object each.</summary>
    internal static readonly IReadOnlyList<string> ModelScripts = ["CREATE SCHEMA migrationtasks;", TableSql];

    /// <summary>One attempt's row, its id returned.</summary>
    internal const string InsertSql = """
        INSERT INTO migrationtasks.history (version, description, script, kind, checksum_sha256, statements_applied,
            statements_total, applied_statements_sha256, outcome, started_at, finished_at, error, applied_by_host,
            package_id, package_version)
        OUTPUT inserted.id
        VALUES (@version, @description, @script, @kind, @checksum, @applied, @total, @appliedChecksum, @outcome, @startedAt,
            CASE WHEN @outcome = N'running' THEN NULL ELSE SYSDATETIMEOFFSET() END, @error, @host, @packageId, @packageVersion)
        """;

    /// <summary>A non-transactional migration's progress.</summary>
    internal const string UpdateSql = """
        UPDATE migrationtasks.history
        SET statements_applied = @applied, applied_statements_sha256 = @appliedChecksum, outcome = @outcome, error = @error,
            finished_at = CASE WHEN @outcome = N'running' THEN NULL ELSE SYSDATETIMEOFFSET() END
        WHERE id = @id
        """;

    public static async Task EnsureTableAsync(SqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(CreateTableSql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<IReadOnlyList<HistoryEntry>> ReadAsync(SqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var exists = new SqlCommand("SELECT CASE WHEN OBJECT_ID(N'migrationtasks.history', N'U') IS NULL THEN 0 ELSE 1 END", connection))
        {
            if ((int)(await exists.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                return [];
            }
        }

        await using var command = new SqlCommand($"SELECT {Columns} FROM migrationtasks.history ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<HistoryEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(HistoryEntry.Read(reader));
        }

        return rows;
    }

    /// <summary>Adds a row for an attempt, inside <paramref name="transaction"/> (the migration's) when given, and returns its id.</summary>
    public static async Task<long> InsertAsync(
        SqlConnection connection, SqlTransaction? transaction, MigrationStep step, ApplyContext context, string outcome, int statementsApplied,
        DateTimeOffset startedAt, string? error, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(InsertSql, connection, transaction);
        var file = step.File;
        Add(command, "@version", file.Version?.Canonical);
        Add(command, "@description", file.Description);
        Add(command, "@script", file.ScriptName);
        Add(command, "@kind", file.Kind.ToString().ToLowerInvariant());
        Add(command, "@checksum", file.Checksum);
        command.Parameters.Add(new SqlParameter("@applied", SqlDbType.Int) { Value = statementsApplied });
        command.Parameters.Add(new SqlParameter("@total", SqlDbType.Int) { Value = step.Script.Statements.Count });
        Add(command, "@appliedChecksum", StatementChecksum.Of(step.Script.Statements, statementsApplied));
        Add(command, "@outcome", outcome);
        command.Parameters.Add(new SqlParameter("@startedAt", SqlDbType.DateTimeOffset) { Value = startedAt });
        Add(command, "@error", error);
        Add(command, "@host", context.AppliedByHost);
        Add(command, "@packageId", context.PackageId);
        Add(command, "@packageVersion", context.PackageVersion);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Records how far a non-transactional migration got, after each batch.</summary>
    public static async Task UpdateProgressAsync(
        SqlConnection connection, long id, MigrationStep step, int statementsApplied, string outcome, string? error, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(UpdateSql, connection);
        command.Parameters.Add(new SqlParameter("@id", SqlDbType.BigInt) { Value = id });
        command.Parameters.Add(new SqlParameter("@applied", SqlDbType.Int) { Value = statementsApplied });
        Add(command, "@appliedChecksum", StatementChecksum.Of(step.Script.Statements, statementsApplied));
        Add(command, "@outcome", outcome);
        Add(command, "@error", error);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Add(SqlCommand command, string name, string? value) =>
        command.Parameters.Add(new SqlParameter(name, SqlDbType.NVarChar, -1) { Value = (object?)value ?? DBNull.Value });
}
