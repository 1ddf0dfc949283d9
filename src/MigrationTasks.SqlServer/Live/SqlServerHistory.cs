using System.Data;
using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The history table <c>migrationtasks.history</c>, with the columns of PostgreSQL's: one row per attempt to apply
/// a script. Schema-qualified in every statement because a migration may change the user's default schema.
/// </summary>
/// <remarks>
/// A migration is applied at most once, and the database itself guarantees it, as on PostgreSQL: each success row
/// names the success row of the same script it supersedes (0 for the first), and the filtered unique index
/// <see cref="AppliedOnceIndex"/> allows one success per pair. Two deploys that both read "V3 is pending" (one lost
/// its lock to a connection reaper) both claim V3 superseding 0 before running it; the second claim waits on the
/// first one's uncommitted key and then fails (2601), rolling back everything the second did.
/// </remarks>
internal static class SqlServerHistory
{
    public const string Schema = "migrationtasks";

    /// <summary>The unique index that makes a double apply impossible; its name identifies the violation.</summary>
    public const string AppliedOnceIndex = "history_applied_once";

    private const string Columns =
        "id, version, description, script, checksum_sha256, statements_applied, statements_total, " +
        "applied_statements_sha256, outcome, started_at, finished_at, error, deploy_id";

    /// <summary>
    /// The table as DacFx models it too: a dev deploy plans from a dacpac that also holds it (with
    /// <see cref="ModelScripts"/>), so that DropObjectsNotInSource leaves it alone. Constraint names are explicit and
    /// the CHECK and DEFAULT are written as the server stores them (sys.check_constraints, sys.default_constraints),
    /// so that the model and the live table compare equal: DacFx compares constraint text. deploy_id and supersedes
    /// come last, where <see cref="EnsureSql"/>'s ALTER TABLE puts them on a table made by an earlier version: DacFx
    /// rebuilds a table whose columns are in another order.
    /// </summary>
    internal static readonly string TableSql = $"""
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
            outcome nvarchar(10) NOT NULL CONSTRAINT ck_migrationtasks_history_outcome CHECK ({string.Join(" OR ", HistoryOutcomeText.All.Select(o => $"[outcome]=N'{o}'"))}),
            started_at datetimeoffset(7) NOT NULL,
            finished_at datetimeoffset(7) NULL,
            error nvarchar(max) NULL,
            applied_by_user nvarchar(128) NOT NULL CONSTRAINT df_migrationtasks_history_user DEFAULT (original_login()),
            applied_by_host nvarchar(128) NOT NULL,
            package_id nvarchar(200) NULL,
            package_version nvarchar(100) NULL,
            deploy_id nvarchar(100) NULL,
            supersedes bigint NOT NULL CONSTRAINT df_migrationtasks_history_supersedes DEFAULT ((0))
        );
        """;

    /// <summary>One success per (script, supersedes); the filter as sys.indexes.filter_definition holds it.</summary>
    internal const string AppliedOnceIndexSql =
        "CREATE UNIQUE NONCLUSTERED INDEX " + AppliedOnceIndex + " ON migrationtasks.history (script, supersedes) WHERE ([outcome]=N'" + HistoryOutcomeText.Success + "');";

    /// <summary>
    /// The production runner's own table of deploy attempts (see <see cref="SqlServerDeployJournal"/>), made when the
    /// first attempt is recorded: dev and shadow databases never get one. Written as the server stores it, as
    /// <see cref="TableSql"/> is.
    /// </summary>
    internal static readonly string DeploysTableSql = $"""
        CREATE TABLE migrationtasks.deploys (
            id nvarchar(100) NOT NULL CONSTRAINT pk_migrationtasks_deploys PRIMARY KEY,
            package_id nvarchar(200) NOT NULL,
            package_version nvarchar(100) NOT NULL,
            release_sha256 nvarchar(64) NOT NULL,
            state nvarchar(20) NOT NULL CONSTRAINT ck_migrationtasks_deploys_state CHECK ({string.Join(" OR ", DeployAttempt.StateNames.Select(n => $"[state]=N'{n}'"))}),
            started_at datetimeoffset(7) NOT NULL,
            updated_at datetimeoffset(7) NOT NULL,
            backup_id nvarchar(200) NULL,
            backup_directory nvarchar(max) NULL,
            detail nvarchar(max) NOT NULL,
            runner_host nvarchar(128) NOT NULL,
            runner_user nvarchar(128) NOT NULL CONSTRAINT df_migrationtasks_deploys_user DEFAULT (original_login())
        );
        """;

    /// <summary>True when the history is there and up to date: one cheap catalog read before any DDL.</summary>
    internal const string UpToDateSql = """
        SELECT CASE WHEN COL_LENGTH(N'migrationtasks.history', N'supersedes') IS NOT NULL
                     AND EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'migrationtasks.history', N'U') AND name = N'history_applied_once')
                    THEN 1 ELSE 0 END
        """;

    /// <summary>
    /// Creates the history schema and table, or brings a table written by an earlier version up to date: deploy_id,
    /// supersedes (each earlier success row then supersedes the success of its script before it, 0 for the first) and
    /// the unique index. Run in a transaction of its own, behind an application lock, so that two runners upgrading at
    /// once neither half-upgrade it nor add a column twice. CREATE SCHEMA must be the only statement of its batch,
    /// and the UPDATE and CREATE INDEX name a column this batch may add (compiled before it exists), hence EXEC.
    /// </summary>
    internal static readonly string EnsureSql = $"""
        EXEC sp_getapplock @Resource = N'MigrationTasks history', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 60000, @DbPrincipal = N'public';
        IF SCHEMA_ID(N'migrationtasks') IS NULL EXEC(N'CREATE SCHEMA migrationtasks');
        IF OBJECT_ID(N'migrationtasks.history', N'U') IS NULL
        {TableSql}
        IF COL_LENGTH(N'migrationtasks.history', N'deploy_id') IS NULL
            ALTER TABLE migrationtasks.history ADD deploy_id nvarchar(100) NULL;
        IF COL_LENGTH(N'migrationtasks.history', N'supersedes') IS NULL
        BEGIN
            ALTER TABLE migrationtasks.history ADD supersedes bigint NOT NULL CONSTRAINT df_migrationtasks_history_supersedes DEFAULT ((0));
            EXEC(N'UPDATE h SET supersedes = ISNULL((SELECT MAX(p.id) FROM migrationtasks.history AS p
                                                     WHERE p.script = h.script AND p.outcome = N''{HistoryOutcomeText.Success}'' AND p.id < h.id), 0)
                   FROM migrationtasks.history AS h');
        END;
        IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'migrationtasks.history', N'U') AND name = N'{AppliedOnceIndex}')
            EXEC(N'{AppliedOnceIndexSql.Replace("'", "''", StringComparison.Ordinal)}');
        """;

    /// <summary>The history schema, table, index and deploys table as model scripts, one object each.</summary>
    internal static readonly IReadOnlyList<string> ModelScripts = ["CREATE SCHEMA migrationtasks;", TableSql, AppliedOnceIndexSql, DeploysTableSql];

    /// <summary>
    /// The model scripts of what a live database holds: the deploys table only where the production runner made one,
    /// so that a dev deploy neither creates it nor drops it.
    /// </summary>
    internal static IReadOnlyList<string> ModelScriptsFor(bool withDeploysTable) => withDeploysTable ? ModelScripts : ModelScripts.SkipLast(1).ToList();

    /// <summary>
    /// The SET options a table with a filtered index demands of every INSERT and UPDATE (error 1934 otherwise). A
    /// migration may have turned one off (SET QUOTED_IDENTIFIER OFF in a legacy script); every history write is
    /// parameterized, so runs through sp_executesql, and these settings end with it.
    /// </summary>
    private const string WriteSettings =
        "SET ANSI_NULLS, ANSI_PADDING, ANSI_WARNINGS, ARITHABORT, CONCAT_NULL_YIELDS_NULL, QUOTED_IDENTIFIER ON;\nSET NUMERIC_ROUNDABORT OFF;\n";

    /// <summary>
    /// One attempt's row, its id returned. A success row is a claim, completed by <see cref="CompleteSql"/> in the
    /// same transaction. supersedes is read past rows other transactions hold locked (READPAST needs
    /// READCOMMITTEDLOCK under READ_COMMITTED_SNAPSHOT): a concurrent deploy's uncommitted claim of the script is
    /// not counted, so this claim collides with it on the unique index and waits for it, as PostgreSQL's snapshot
    /// makes it do. A locking read would wait for it instead, read its id once it committed, and apply the script twice.
    /// </summary>
    internal const string InsertSql = WriteSettings + $"""
        INSERT INTO migrationtasks.history (version, description, script, kind, checksum_sha256, statements_applied,
            statements_total, applied_statements_sha256, outcome, started_at, finished_at, error, applied_by_host,
            package_id, package_version, deploy_id, supersedes)
        OUTPUT inserted.id
        SELECT @version, @description, @script, @kind, @checksum, @applied, @total, @appliedChecksum, @outcome, @startedAt,
            CASE WHEN @outcome = N'{HistoryOutcomeText.Failed}' THEN SYSDATETIMEOFFSET() END, @error, @host, @packageId, @packageVersion, @deployId,
            ISNULL((SELECT MAX(p.id) FROM migrationtasks.history AS p WITH (READCOMMITTEDLOCK, READPAST)
                    WHERE p.script = @script AND p.outcome = N'{HistoryOutcomeText.Success}'), 0);
        """;

    /// <summary>A claimed row, completed after the migration's batches ran.</summary>
    internal const string CompleteSql = WriteSettings + """
        UPDATE migrationtasks.history
        SET statements_applied = @applied, applied_statements_sha256 = @appliedChecksum, finished_at = SYSDATETIMEOFFSET()
        WHERE id = @id;
        """;

    /// <summary>A non-transactional migration's progress.</summary>
    internal const string UpdateSql = WriteSettings + $"""
        UPDATE migrationtasks.history
        SET statements_applied = @applied, applied_statements_sha256 = @appliedChecksum, outcome = @outcome, error = @error,
            finished_at = CASE WHEN @outcome = N'{HistoryOutcomeText.Running}' THEN NULL ELSE SYSDATETIMEOFFSET() END
        WHERE id = @id;
        """;

    /// <summary>Creates or upgrades the history schema (see <see cref="EnsureSql"/>); one catalog read when it is up to date.</summary>
    public static async Task EnsureTableAsync(SqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var check = new SqlCommand(UpToDateSql, connection))
        {
            if ((int)(await check.ExecuteScalarAsync(cancellationToken))! == 1)
            {
                return;
            }
        }

        await using var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new SqlCommand(EnsureSql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public static async Task<IReadOnlyList<HistoryEntry>> ReadAsync(SqlConnection connection, CancellationToken cancellationToken)
    {
        // A history written before deploy_id existed is read too (baselines of older databases, before any apply).
        int columns;
        await using (var exists = new SqlCommand(
            """
            SELECT CASE WHEN OBJECT_ID(N'migrationtasks.history', N'U') IS NULL THEN 0
                        WHEN COL_LENGTH(N'migrationtasks.history', N'deploy_id') IS NULL THEN 1 ELSE 2 END
            """,
            connection))
        {
            columns = (int)(await exists.ExecuteScalarAsync(cancellationToken))!;
        }

        if (columns == 0)
        {
            return [];
        }

        var select = columns == 2 ? Columns : Columns.Replace(", deploy_id", "", StringComparison.Ordinal);
        await using var command = new SqlCommand($"SELECT {select} FROM migrationtasks.history ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<HistoryEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(HistoryEntry.Read(reader));
        }

        return rows;
    }

    /// <summary>
    /// Claims a migration for this deploy inside <paramref name="transaction"/> (the migration's or the release's),
    /// before any of its batches runs: a row that is a success from the start, which the transaction's rollback takes
    /// back. Returns its id. Throws <see cref="DeployLockLostException"/> when another deploy claimed the same
    /// migration (it waits for that deploy's transaction first), or holds its claim past the statement lock timeout.
    /// </summary>
    public static async Task<long> ClaimAsync(
        SqlConnection connection, SqlTransaction transaction, MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        try
        {
            return await InsertAsync(connection, transaction, step, context, HistoryOutcome.Success, 0, DateTimeOffset.UtcNow, null, cancellationToken);
        }
        catch (SqlException e) when (e.Number == SqlServerErrors.LockTimeout)
        {
            throw new DeployLockLostException(
                $"another deploy is applying {step.File.ScriptName} at this moment (its uncommitted claim holds the history row). " +
                "Nothing of this migration ran here; this deploy stops, since another one is working on the database.",
                e);
        }
    }

    /// <summary>Completes a claimed row after the migration's batches ran (its batch count and finish time).</summary>
    public static async Task CompleteClaimAsync(SqlConnection connection, SqlTransaction transaction, long id, MigrationStep step, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(CompleteSql, connection, transaction);
        command.Parameters.Add(new SqlParameter("@id", SqlDbType.BigInt) { Value = id });
        command.Parameters.Add(new SqlParameter("@applied", SqlDbType.Int) { Value = step.Script.Statements.Count });
        Add(command, "@appliedChecksum", StatementChecksum.Of(step.Script.Statements, step.Script.Statements.Count));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Adds a row for an attempt, inside <paramref name="transaction"/> when given, and returns its id;
    /// <see cref="DeployLockLostException"/> when it is a success row another deploy's success row already took.
    /// </summary>
    public static async Task<long> InsertAsync(
        SqlConnection connection, SqlTransaction? transaction, MigrationStep step, ApplyContext context, HistoryOutcome outcome, int statementsApplied,
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
        Add(command, "@outcome", HistoryOutcomeText.Of(outcome));
        command.Parameters.Add(new SqlParameter("@startedAt", SqlDbType.DateTimeOffset) { Value = startedAt });
        Add(command, "@error", error);
        Add(command, "@host", context.AppliedByHost);
        Add(command, "@packageId", context.PackageId);
        Add(command, "@packageVersion", context.PackageVersion);
        Add(command, "@deployId", context.DeployId);
        return (long)(await ExecuteAsync(command, step, cancellationToken))!;
    }

    /// <summary>
    /// Records how far a non-transactional migration got, after each batch. The last one turns the row into a
    /// success, which <see cref="AppliedOnceIndex"/> refuses when another deploy's success took the same place.
    /// </summary>
    public static async Task UpdateProgressAsync(
        SqlConnection connection, long id, MigrationStep step, int statementsApplied, HistoryOutcome outcome, string? error, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(UpdateSql, connection);
        command.Parameters.Add(new SqlParameter("@id", SqlDbType.BigInt) { Value = id });
        command.Parameters.Add(new SqlParameter("@applied", SqlDbType.Int) { Value = statementsApplied });
        Add(command, "@appliedChecksum", StatementChecksum.Of(step.Script.Statements, statementsApplied));
        Add(command, "@outcome", HistoryOutcomeText.Of(outcome));
        Add(command, "@error", error);
        await ExecuteAsync(command, step, cancellationToken);
    }

    /// <summary>Whether a server error is the violation of <see cref="AppliedOnceIndex"/> (2601; 2627 for a constraint).</summary>
    internal static bool IsAppliedTwice(int number, string message) =>
        number is 2601 or 2627 && message.Contains(AppliedOnceIndex, StringComparison.OrdinalIgnoreCase);

    private static async Task<object?> ExecuteAsync(SqlCommand command, MigrationStep step, CancellationToken cancellationToken)
    {
        try
        {
            return await command.ExecuteScalarAsync(cancellationToken);
        }
        catch (SqlException e) when (IsAppliedTwice(e.Number, e.Message))
        {
            throw new DeployLockLostException(
                $"another deploy applied {step.File.ScriptName} while this one was about to: its history already records it (unique index {AppliedOnceIndex}). " +
                "Nothing of this migration ran here; this deploy stops, since another one is working on the database.",
                e);
        }
    }

    /// <summary>A text parameter (nvarchar(max)), NULL for null.</summary>
    internal static void Add(SqlCommand command, string name, string? value) =>
        command.Parameters.Add(new SqlParameter(name, SqlDbType.NVarChar, -1) { Value = (object?)value ?? DBNull.Value });
}
