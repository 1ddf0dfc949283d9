using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// The history table <c>migrationtasks.history</c>: one row per attempt to apply a script. Schema-qualified in every
/// statement because a migration may change the session's search_path, and written as the connecting user because a
/// migration may change the session's role.
/// </summary>
/// <remarks>
/// A migration is applied at most once, and the database itself guarantees it: each success row names the success
/// row of the same script it supersedes (0 for the first), and a unique index allows one success per pair. Two
/// deploys that both read "V3 is pending" (one lost its lock to a connection reaper) both claim V3 superseding 0;
/// the second claim waits for the first transaction and then fails, rolling back everything the second did.
/// </remarks>
internal static class PostgresHistory
{
    /// <summary>The unique index that makes a double apply impossible; its name identifies the violation.</summary>
    public const string AppliedOnceIndex = "history_applied_once";

    private const string Columns =
        "id, version, description, script, checksum_sha256, statements_applied, statements_total, " +
        "applied_statements_sha256, outcome, started_at, finished_at, error, deploy_id";

    /// <summary>
    /// Creates the history schema, or brings one written by an earlier version up to date (deploy_id, supersedes
    /// and its index). Idempotent and cheap when there is nothing to do.
    /// </summary>
    public static async Task EnsureTablesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $$"""
            DO $migrationtasks$
            BEGIN
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
                    outcome text NOT NULL CHECK (outcome IN ({{string.Join(", ", HistoryOutcomeText.All.Select(o => $"'{o}'"))}})),
                    started_at timestamptz NOT NULL,
                    finished_at timestamptz,
                    error text,
                    applied_by_user text NOT NULL DEFAULT current_user,
                    applied_by_host text NOT NULL,
                    package_id text,
                    package_version text,
                    deploy_id text,
                    supersedes bigint NOT NULL DEFAULT 0
                );
                IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute
                               WHERE attrelid = pg_catalog.to_regclass('migrationtasks.history') AND attname = 'supersedes' AND NOT attisdropped) THEN
                    -- A history written before the rule: each success row supersedes the success of its script before it.
                    ALTER TABLE migrationtasks.history ADD COLUMN IF NOT EXISTS deploy_id text, ADD COLUMN supersedes bigint;
                    UPDATE migrationtasks.history h
                    SET supersedes = coalesce((SELECT max(p.id) FROM migrationtasks.history p
                                               WHERE p.script = h.script AND p.outcome = '{{HistoryOutcomeText.Success}}' AND p.id < h.id), 0);
                    ALTER TABLE migrationtasks.history ALTER COLUMN supersedes SET DEFAULT 0, ALTER COLUMN supersedes SET NOT NULL;
                END IF;
                -- Looked up first: CREATE INDEX takes its table lock before it sees the index exists, and would wait for a
                -- deploy whose migration holds the history (one that lost its lock, say) instead of going on.
                IF pg_catalog.to_regclass('migrationtasks.{{AppliedOnceIndex}}') IS NULL THEN
                    CREATE UNIQUE INDEX {{AppliedOnceIndex}} ON migrationtasks.history (script, supersedes) WHERE outcome = '{{HistoryOutcomeText.Success}}';
                END IF;
            END
            $migrationtasks$
            """,
            connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The production runner's own table of deploy attempts, made when the first attempt is recorded (dev and
    /// shadow databases never get one).
    /// </summary>
    public static string DeploysTableSql => $$"""
        CREATE TABLE IF NOT EXISTS migrationtasks.deploys (
            id text PRIMARY KEY,
            package_id text NOT NULL,
            package_version text NOT NULL,
            release_sha256 text NOT NULL,
            state text NOT NULL CHECK (state IN ({{string.Join(", ", DeployAttempt.StateNames.Select(n => $"'{n}'"))}})),
            started_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            backup_id text,
            backup_directory text,
            detail text NOT NULL,
            runner_host text NOT NULL,
            runner_user text NOT NULL DEFAULT current_user
        )
        """;

    public static async Task<IReadOnlyList<HistoryEntry>> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // A history written before deploy_id existed is read too (baselines of older databases, before any apply).
        string? columns;
        await using (var exists = new NpgsqlCommand(
            """
            SELECT CASE WHEN to_regclass('migrationtasks.history') IS NULL THEN NULL
                        WHEN EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass('migrationtasks.history')
                                     AND attname = 'deploy_id' AND NOT attisdropped) THEN 'all' ELSE 'old' END
            """,
            connection))
        {
            columns = await exists.ExecuteScalarAsync(cancellationToken) as string;
        }

        if (columns is null)
        {
            return [];
        }

        var select = columns == "all" ? Columns : Columns.Replace(", deploy_id", "", StringComparison.Ordinal);
        await using var command = new NpgsqlCommand($"SELECT {select} FROM migrationtasks.history ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<HistoryEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(HistoryEntry.Read(reader));
        }

        return rows;
    }

    /// <summary>
    /// Claims a migration for this deploy inside <paramref name="transaction"/> (the migration's), before any of its
    /// statements runs: a row that is a success from the start, which the transaction's rollback takes back. Returns
    /// its id. Throws <see cref="DeployLockLostException"/> when the deploy lock is no longer held by
    /// <paramref name="lockHolder"/>, or another deploy claimed the same migration (it waits for that deploy's
    /// transaction first).
    /// </summary>
    public static async Task<long> ClaimAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MigrationStep step, ApplyContext context, LockHolder? lockHolder, CancellationToken cancellationToken)
    {
        try
        {
            var id = await WriteAsConnectingUserAsync(connection, transaction, Insert(step, context, HistoryOutcome.Success, 0, lockHolder), cancellationToken);
            return id is long claimed ? claimed : throw LockLost(lockHolder, step);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == AppliedOnceIndex)
        {
            throw new DeployLockLostException(
                $"another deploy applied {step.File.ScriptName} while this one was about to: its history already records it (unique rule {AppliedOnceIndex}). " +
                "Nothing of this migration ran here; this deploy stops, since another one is working on the database.",
                e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // The claim waited (past the statement lock timeout) on another transaction's claim of the same row.
            throw new DeployLockLostException(
                $"another deploy is applying {step.File.ScriptName} at this moment (its uncommitted claim holds the history row). " +
                "Nothing of this migration ran here; this deploy stops, since another one is working on the database.",
                e);
        }
    }

    /// <summary>Completes a claimed row after the migration's statements ran (its statement count and finish time).</summary>
    public static async Task CompleteClaimAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, MigrationStep step, CancellationToken cancellationToken)
    {
        var command = new NpgsqlBatchCommand(
            """
            UPDATE migrationtasks.history
            SET statements_applied = $2, applied_statements_sha256 = $3, finished_at = clock_timestamp()
            WHERE id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = step.Script.Statements.Count });
        command.Parameters.Add(new NpgsqlParameter { Value = StatementChecksum.Of(step.Script.Statements, step.Script.Statements.Count) });
        await WriteAsConnectingUserAsync(connection, transaction, command, cancellationToken);
    }

    /// <summary>
    /// Adds a row for an attempt in a transaction of its own (a failure after the migration's rolled back, or the
    /// start of a migration run statement by statement), and returns its id; <see cref="DeployLockLostException"/>
    /// when the lock is no longer held.
    /// </summary>
    public static async Task<long> InsertAsync(
        NpgsqlConnection connection, MigrationStep step, ApplyContext context, HistoryOutcome outcome, int statementsApplied, string? error, LockHolder? lockHolder, CancellationToken cancellationToken) =>
        await WriteAsConnectingUserAsync(connection, null, Insert(step, context, outcome, statementsApplied, lockHolder, error), cancellationToken) is long id
            ? id
            : throw LockLost(lockHolder, step);

    /// <summary>
    /// Records how far a non-transactional migration got, after each statement, proving the lock: a runner that lost
    /// it stops before its next statement. Returns true when the row had to be written inside a transaction the
    /// script itself opened (BEGIN without COMMIT yet).
    /// </summary>
    public static async Task<bool> UpdateProgressAsync(
        NpgsqlConnection connection, long id, MigrationStep step, int statementsApplied, HistoryOutcome outcome, string? error, LockHolder? lockHolder, CancellationToken cancellationToken)
    {
        var command = new NpgsqlBatchCommand(
            $"""
            UPDATE migrationtasks.history
            SET statements_applied = $2, applied_statements_sha256 = $3, outcome = $4, error = $5,
                finished_at = CASE WHEN $4 = '{HistoryOutcomeText.Running}' THEN NULL ELSE clock_timestamp() END
            WHERE id = $1 AND {LockProof(6)}
            RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = statementsApplied });
        command.Parameters.Add(new NpgsqlParameter { Value = StatementChecksum.Of(step.Script.Statements, statementsApplied) });
        command.Parameters.Add(new NpgsqlParameter { Value = HistoryOutcomeText.Of(outcome) });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        AddLockHolder(command, lockHolder);
        var own = await TryBeginAsync(connection, cancellationToken);
        if (await WriteAsync(connection, own, commit: own is not null, command, cancellationToken) is not long)
        {
            throw LockLost(lockHolder, step);
        }

        return own is null;
    }

    /// <summary>
    /// SQL that is true when the deploy lock is held by the session <c>$n</c> (pid) started at <c>$n+1</c>, or when
    /// no lock is being proven (both null). pg_locks is read live, not from the transaction's snapshot.
    /// </summary>
    public static string LockProof(int firstParameter) => $"""
        (${firstParameter}::int IS NULL OR EXISTS (
            SELECT FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
            WHERE {PostgresDeployLock.IsHeldLock("l")} AND l.pid = ${firstParameter} AND a.backend_start = ${firstParameter + 1}::timestamptz))
        """;

    public static void AddLockHolder(NpgsqlBatchCommand command, LockHolder? holder)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)holder?.Pid ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)holder?.BackendStart ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
    }

    public static DeployLockLostException LockLost(LockHolder? holder, MigrationStep? step) =>
        new($"the deploy lock is no longer held by this deploy (its session, pid {holder?.Pid}, was ended or released it)" +
            (step is null ? "" : $", found before {step.File.ScriptName} could be recorded") +
            ": another deploy may be running. Nothing more runs; what this deploy committed before is in the report.");

    private static NpgsqlBatchCommand Insert(MigrationStep step, ApplyContext context, HistoryOutcome outcome, int statementsApplied, LockHolder? lockHolder, string? error = null)
    {
        var command = new NpgsqlBatchCommand(
            $"""
            INSERT INTO migrationtasks.history (version, description, script, kind, checksum_sha256, statements_applied,
                statements_total, applied_statements_sha256, outcome, started_at, finished_at, error, applied_by_host,
                package_id, package_version, deploy_id, supersedes)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp(), CASE WHEN $9 = '{HistoryOutcomeText.Failed}' THEN clock_timestamp() END,
                $10, $11, $12, $13, $14,
                coalesce((SELECT max(p.id) FROM migrationtasks.history p WHERE p.script = $3 AND p.outcome = '{HistoryOutcomeText.Success}'), 0)
            WHERE {LockProof(15)}
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
        command.Parameters.Add(new NpgsqlParameter { Value = HistoryOutcomeText.Of(outcome) });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = context.AppliedByHost });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)context.PackageId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)context.PackageVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)context.DeployId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        AddLockHolder(command, lockHolder);
        return command;
    }

    /// <summary>
    /// Runs <paramref name="write"/> as the user the connection logged in as. A migration may switch the session to
    /// a role that has no rights on migrationtasks (SET ROLE, SET SESSION AUTHORIZATION) and leave it so, as a file
    /// run with psql may: its session ends with the file. SET LOCAL switches back for this transaction only, so that
    /// in a migration run statement by statement the script's next statement still runs as the script chose.
    /// </summary>
    /// <param name="transaction">The migration's transaction to write in; null: a transaction of the write's own.</param>
    public static async Task<object?> WriteAsConnectingUserAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, NpgsqlBatchCommand write, CancellationToken cancellationToken)
    {
        var own = transaction is null ? await TryBeginAsync(connection, cancellationToken) : null;
        return await WriteAsync(connection, transaction ?? own, commit: own is not null, write, cancellationToken);
    }

    /// <param name="transaction">The transaction to write in; null only inside a transaction the script opened itself.</param>
    /// <param name="commit">The transaction is the write's own: commit it (and end it) here.</param>
    private static async Task<object?> WriteAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, bool commit, NpgsqlBatchCommand write, CancellationToken cancellationToken)
    {
        try
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            if (transaction is not null)
            {
                // SESSION AUTHORIZATION DEFAULT also ends SET ROLE; ROLE NONE says so.
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL SESSION AUTHORIZATION DEFAULT"));
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL ROLE NONE"));
            }

            batch.BatchCommands.Add(write);
            var result = await batch.ExecuteScalarAsync(cancellationToken);
            if (commit)
            {
                await transaction!.CommitAsync(cancellationToken);
            }

            return result;
        }
        finally
        {
            if (commit)
            {
                await transaction!.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A new transaction, or null when a script run statement by statement opened one with BEGIN and has not ended it
    /// (Npgsql refuses a nested one): the row is then written in the script's transaction, as whoever the script is.
    /// </summary>
    public static async Task<NpgsqlTransaction?> TryBeginAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
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

/// <summary>The session that holds the deploy lock: its pid, and when it started (a pid alone can be reused).</summary>
internal sealed record LockHolder(int Pid, DateTimeOffset BackendStart);
