using System.Globalization;
using System.Text;
using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// Whether sessions other than the deploy's wrote to the database since its backup: what a restore would discard.
/// </summary>
/// <remarks>
/// PostgreSQL counts every table's inserted, updated and deleted rows (pg_stat_user_tables). The counters are read
/// just before the backup; the deploy's own writes are counted inside each of its transactions (their
/// pg_stat_xact_user_tables from start to commit, exact within a transaction) and recorded with the transaction in
/// <c>migrationtasks.deploy_writes</c>. At the restore, inside its own transaction, the counters again, less both:
/// what is left was written by someone else. A session publishes its counters when it ends, or within about ten
/// seconds of going idle (PostgreSQL 15+): so the guard first blocks every writer (LOCK … IN EXCLUSIVE MODE), ends
/// the other sessions and waits for those it may not end to have been idle that long, and only then reads. Limits:
/// TRUNCATE is not counted; a statement of a migration run outside a transaction is not measured, and counts as
/// someone else's write (the safe side: no restore without a person).
/// </remarks>
internal static class PostgresWriteCounters
{
    private const string Start = "MIGRATIONTASKS_WRITES_SINCE_BACKUP<<";
    private const string Unknown = "MIGRATIONTASKS_WRITES_UNKNOWN<<";
    private const string LockLost = "MIGRATIONTASKS_LOCK_LOST";
    private const string End = ">>";

    /// <summary>The deploy_writes row that says some of the deploy's writes outside a transaction could not be measured.</summary>
    private const uint Unmeasured = 0;

    /// <summary>How long an idle session may keep counters it has not published (PostgreSQL publishes within ten seconds).</summary>
    private static readonly TimeSpan PublishDelay = TimeSpan.FromSeconds(11);

    /// <summary>One reading around a statement run outside a transaction.</summary>
    /// <param name="Sessions">pg_stat_database.sessions: every session ever started on the database (one that came and went shows here).</param>
    /// <param name="Others">Every other client session (not the runner's), as it stood.</param>
    public sealed record OutsideProbe(
        DateTimeOffset Taken, long Sessions, IReadOnlyDictionary<uint, (long Inserted, long Updated, long Deleted)> Counters, HashSet<OtherSession> Others);

    public sealed record OtherSession(int Pid, DateTimeOffset BackendStart, DateTimeOffset? StateChange, bool Idle);

    private const string DeployWritesTable = """
        CREATE SCHEMA IF NOT EXISTS migrationtasks;
        CREATE TABLE IF NOT EXISTS migrationtasks.deploy_writes (
            deploy_id text NOT NULL,
            relid oid NOT NULL,
            inserted bigint NOT NULL,
            updated bigint NOT NULL,
            deleted bigint NOT NULL,
            PRIMARY KEY (deploy_id, relid)
        )
        """;

    /// <summary>Every user table's counters now (a fresh statistics snapshot); read before the backup.</summary>
    public static async Task<IReadOnlyList<TableWriteCounter>> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT pg_catalog.pg_stat_clear_snapshot();
            SELECT relid, pg_catalog.format('%I.%I', schemaname, relname), n_tup_ins, n_tup_upd, n_tup_del
            FROM pg_catalog.pg_stat_user_tables WHERE schemaname <> 'migrationtasks' ORDER BY relid
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var counters = new List<TableWriteCounter>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counters.Add(new TableWriteCounter(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        return counters;
    }

    /// <summary>This transaction's counters so far (with any this session has not published yet), by table.</summary>
    public static async Task<IReadOnlyDictionary<uint, (long Inserted, long Updated, long Deleted)>> OwnAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT relid, n_tup_ins, n_tup_upd, n_tup_del FROM pg_catalog.pg_stat_xact_user_tables WHERE schemaname <> 'migrationtasks'", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counters = new Dictionary<uint, (long, long, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counters[reader.GetFieldValue<uint>(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        }

        return counters;
    }

    /// <summary>
    /// Records what this transaction wrote since <paramref name="atStart"/> as the deploy's own, in the transaction
    /// itself: committed with the writes, or rolled back with them.
    /// </summary>
    public static async Task RecordOwnAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string deployId, IReadOnlyDictionary<uint, (long Inserted, long Updated, long Deleted)> atStart, CancellationToken cancellationToken)
    {
        var now = await OwnAsync(connection, transaction, cancellationToken);
        var rows = now.Select(n =>
            {
                var before = atStart.GetValueOrDefault(n.Key);
                return new KeyValuePair<uint, (long, long, long)>(n.Key, (n.Value.Inserted - before.Inserted, n.Value.Updated - before.Updated, n.Value.Deleted - before.Deleted));
            })
            .Where(r => r.Value != (0, 0, 0))
            .ToList();
        await RecordAsync(connection, transaction, deployId, rows, cancellationToken);
    }

    private static async Task RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string deployId, IReadOnlyList<KeyValuePair<uint, (long Inserted, long Updated, long Deleted)>> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await using (var table = new NpgsqlCommand(DeployWritesTable, connection, transaction))
        {
            await table.ExecuteNonQueryAsync(cancellationToken);
        }

        var write = new NpgsqlBatchCommand(
            """
            INSERT INTO migrationtasks.deploy_writes (deploy_id, relid, inserted, updated, deleted)
            SELECT $1, w.relid, w.inserted, w.updated, w.deleted
            FROM ROWS FROM (pg_catalog.unnest($2::oid[]), pg_catalog.unnest($3::bigint[]), pg_catalog.unnest($4::bigint[]), pg_catalog.unnest($5::bigint[])) AS w (relid, inserted, updated, deleted)
            ON CONFLICT (deploy_id, relid) DO UPDATE SET inserted = deploy_writes.inserted + excluded.inserted,
                updated = deploy_writes.updated + excluded.updated, deleted = deploy_writes.deleted + excluded.deleted
            """);
        write.Parameters.Add(new NpgsqlParameter { Value = deployId });
        write.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Oid });
        write.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.Inserted).ToArray() });
        write.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.Updated).ToArray() });
        write.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.Deleted).ToArray() });
        await PostgresHistory.WriteAsConnectingUserAsync(connection, transaction, write, cancellationToken);
    }

    /// <summary>
    /// The database's counters and who else is connected, just before a statement that runs outside a transaction
    /// (where pg_stat_xact_* says nothing): see <see cref="EndOutsideAsync"/>. Null before PostgreSQL 15, which has
    /// no pg_stat_force_next_flush: such a statement's writes stay unmeasured.
    /// </summary>
    public static async Task<OutsideProbe?> BeginOutsideAsync(NpgsqlConnection connection, int? lockPid, CancellationToken cancellationToken) =>
        connection.PostgreSqlVersion.Major < 15 ? null : await ProbeAsync(connection, lockPid, cancellationToken);

    /// <summary>
    /// Records what the statement wrote as the deploy's own: the counters' change, when no other session can have
    /// written meanwhile (the same sessions, idle since before it and long enough to have published their counters,
    /// and none started or ended). Otherwise the deploy's writes outside a transaction are marked unmeasured.
    /// </summary>
    /// <returns>The reading after the statement, which is the one before the next (null when none could be taken).</returns>
    public static async Task<OutsideProbe?> EndOutsideAsync(NpgsqlConnection connection, OutsideProbe? before, string deployId, int? lockPid, CancellationToken cancellationToken)
    {
        var after = before is null ? null : await ProbeAsync(connection, lockPid, cancellationToken);
        var alone = before is not null && after is not null && after.Sessions == before.Sessions && after.Others.SetEquals(before.Others)
                    && before.Others.All(o => o.Idle && o.StateChange < before.Taken - PublishDelay);
        var own = alone
            ? after!.Counters.ToDictionary(
                c => c.Key,
                c => (c.Value.Inserted - before!.Counters.GetValueOrDefault(c.Key).Inserted,
                      c.Value.Updated - before.Counters.GetValueOrDefault(c.Key).Updated,
                      c.Value.Deleted - before.Counters.GetValueOrDefault(c.Key).Deleted))
            : new Dictionary<uint, (long, long, long)> { [Unmeasured] = (0, 0, 0) };
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RecordAsync(connection, transaction, deployId, own.Where(o => o.Key == Unmeasured || o.Value != (0, 0, 0)).ToList(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return after;
    }

    /// <summary>Marks the deploy's writes outside a transaction as unmeasured (e.g. inside a transaction the script opened).</summary>
    public static async Task MarkUnmeasuredAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string deployId, CancellationToken cancellationToken) =>
        await RecordAsync(connection, transaction, deployId, [new(Unmeasured, (0, 0, 0))], cancellationToken);

    /// <summary>
    /// The restore's guard, run first in its transaction: the deploy lock must still be this run's; then, unless
    /// <paramref name="discardLaterWrites"/>, writes by others since the backup refuse the restore (it rolls back).
    /// </summary>
    /// <param name="keep">Sessions not to end: the runner's own (its lock, the session that waits for psql).</param>
    public static string GuardSql(DatabaseBackup backup, string? deployId, LockHolder? holder, IReadOnlyList<int> keep, bool discardLaterWrites)
    {
        var sql = new StringBuilder("DO $mtguard$\nDECLARE\n    item record;\n    written text := '';\n    lingering text;\n    waited int := 0;\nBEGIN\n");
        if (holder is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $"""
                    IF NOT EXISTS (SELECT FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
                                   WHERE {PostgresDeployLock.IsHeldLock("l")} AND l.pid = {holder.Pid} AND a.backend_start = '{holder.BackendStart:O}'::timestamptz) THEN
                        RAISE EXCEPTION '{LockLost}';
                    END IF;

                """);
        }

        if (!discardLaterWrites)
        {
            var others = $"a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid() AND a.backend_type = 'client backend' " +
                         $"AND a.pid NOT IN ({string.Join(", ", keep.DefaultIfEmpty(0).Select(p => p.ToString(CultureInfo.InvariantCulture)))})";
            sql.Append(CultureInfo.InvariantCulture, $$"""
                    IF {{(backup.WriteCounters is null ? "true" : "false")}} THEN
                        RAISE EXCEPTION '{{Unknown}}the backup recorded no write counters (an older runner took it){{End}}';
                    END IF;
                    -- Writers wait from here to the end of the restore; readers go on.
                    FOR item IN SELECT c.oid::pg_catalog.regclass AS t FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                                WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'migrationtasks' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' LOOP
                        EXECUTE pg_catalog.format('LOCK TABLE %s IN EXCLUSIVE MODE', item.t);
                    END LOOP;
                    -- A session publishes its counters when it ends: end the others.
                    FOR item IN SELECT a.pid FROM pg_catalog.pg_stat_activity a WHERE {{others}} LOOP
                        BEGIN
                            PERFORM pg_catalog.pg_terminate_backend(item.pid);
                        EXCEPTION WHEN insufficient_privilege THEN
                            NULL;
                        END;
                    END LOOP;
                    -- Those it may not end publish theirs within about ten seconds of going idle.
                    LOOP
                        PERFORM pg_catalog.pg_stat_clear_snapshot();
                        SELECT pg_catalog.string_agg(a.pid::text || ' (' || coalesce(a.usename, '?') || ')', ', ') INTO lingering
                        FROM pg_catalog.pg_stat_activity a
                        WHERE {{others}} AND NOT (a.state = 'idle' AND a.state_change < pg_catalog.clock_timestamp() - interval '11 seconds');
                        EXIT WHEN lingering IS NULL OR waited >= 240;
                        PERFORM pg_catalog.pg_sleep(0.05);
                        waited := waited + 1;
                    END LOOP;
                    IF lingering IS NOT NULL THEN
                        RAISE EXCEPTION '{{Unknown}}sessions %, which this login may not end, stayed busy: whether they wrote since the backup cannot be told{{End}}', lingering;
                    END IF;
                    PERFORM pg_catalog.pg_stat_clear_snapshot();
                    {{DeployWritesTable}};
                    FOR item IN
                        WITH before (relid, inserted, updated, deleted) AS ({{Values(backup.WriteCounters ?? [])}}),
                             own AS (SELECT w.relid, sum(w.inserted) AS inserted, sum(w.updated) AS updated, sum(w.deleted) AS deleted
                                     FROM migrationtasks.deploy_writes w WHERE w.deploy_id = {{Literal(deployId ?? "")}} AND w.relid <> {{Unmeasured}} GROUP BY w.relid)
                        SELECT pg_catalog.regexp_replace(pg_catalog.format('%I.%I', s.schemaname, s.relname), '[\r\n]', ' ', 'g') AS t,
                               s.n_tup_ins - coalesce(b.inserted, 0) - coalesce(o.inserted, 0) AS inserted,
                               s.n_tup_upd - coalesce(b.updated, 0) - coalesce(o.updated, 0) AS updated,
                               s.n_tup_del - coalesce(b.deleted, 0) - coalesce(o.deleted, 0) AS deleted,
                               b.relid IS NOT NULL AND (s.n_tup_ins < b.inserted OR s.n_tup_upd < b.updated OR s.n_tup_del < b.deleted) AS reset
                        FROM pg_catalog.pg_stat_user_tables s LEFT JOIN before b ON b.relid = s.relid LEFT JOIN own o ON o.relid = s.relid
                        WHERE s.schemaname <> 'migrationtasks'
                        ORDER BY 1
                    LOOP
                        IF item.reset THEN
                            written := written || item.t || ': its counters were reset since the backup (a server restart or pg_stat_reset), so its writes cannot be told; ';
                        ELSIF item.inserted > 0 OR item.updated > 0 OR item.deleted > 0 THEN
                            written := written || pg_catalog.format('%s: %s inserted, %s updated, %s deleted; ', item.t, item.inserted, item.updated, item.deleted);
                        END IF;
                    END LOOP;
                    IF written <> '' AND EXISTS (SELECT FROM migrationtasks.deploy_writes w WHERE w.deploy_id = {{Literal(deployId ?? "")}} AND w.relid = {{Unmeasured}}) THEN
                        written := written || '(some of this deploy''s own writes outside a transaction could not be measured while other sessions were connected, and may be among these)';
                    END IF;
                    IF written <> '' THEN
                        RAISE EXCEPTION '{{Start}}%{{End}}', pg_catalog.rtrim(written, '; ');
                    END IF;

                """);
        }

        return sql.Append("END\n$mtguard$;\n").ToString();
    }

    /// <summary>Turns the guard's refusal, in a failed restore's message, back into what it means; null when it is another failure.</summary>
    public static Exception? Refusal(string backupId, string message)
    {
        if (message.Contains(LockLost, StringComparison.Ordinal))
        {
            return new DeployLockLostException("the deploy lock was no longer this run's when its restore began: the restore was not done (another deploy may be working on the database).");
        }

        foreach (var (marker, known) in new[] { (Start, true), (Unknown, false) })
        {
            var at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                var end = message.IndexOf(End, at + marker.Length, StringComparison.Ordinal);
                var text = message[(at + marker.Length)..(end < 0 ? message.Length : end)];
                return new WritesSinceBackupException(backupId, known ? text.Split("; ") : [$"unknown: {text}"]);
            }
        }

        return null;
    }

    /// <summary>
    /// Publishes this session's own counters (pg_stat_force_next_flush takes effect when the session next waits for
    /// the client, i.e. between the two commands), then reads the database's.
    /// </summary>
    private static async Task<OutsideProbe> ProbeAsync(NpgsqlConnection connection, int? lockPid, CancellationToken cancellationToken)
    {
        await using (var flush = new NpgsqlCommand("SELECT pg_catalog.pg_stat_force_next_flush()", connection))
        {
            await flush.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(
            $"""
            SELECT pg_catalog.pg_stat_clear_snapshot();
            SELECT pg_catalog.clock_timestamp(), (SELECT sessions FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database());
            SELECT relid, n_tup_ins, n_tup_upd, n_tup_del FROM pg_catalog.pg_stat_user_tables WHERE schemaname <> 'migrationtasks';
            SELECT pid, backend_start, state_change, state = 'idle' FROM pg_catalog.pg_stat_activity
            WHERE datname = pg_catalog.current_database() AND backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid() AND pid <> {lockPid ?? 0};
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var taken = reader.GetFieldValue<DateTimeOffset>(0);
        var sessions = reader.GetInt64(1);
        await reader.NextResultAsync(cancellationToken);
        var counters = new Dictionary<uint, (long, long, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counters[reader.GetFieldValue<uint>(0)] = (reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        }

        await reader.NextResultAsync(cancellationToken);
        var others = new HashSet<OtherSession>();
        while (await reader.ReadAsync(cancellationToken))
        {
            others.Add(new OtherSession(
                reader.GetInt32(0),
                reader.GetFieldValue<DateTimeOffset>(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                !reader.IsDBNull(3) && reader.GetBoolean(3)));
        }

        return new OutsideProbe(taken, sessions, counters, others);
    }

    private static string Values(IReadOnlyList<TableWriteCounter> counters) =>
        counters.Count == 0
            ? "SELECT NULL::oid, NULL::bigint, NULL::bigint, NULL::bigint WHERE false"
            : "VALUES " + string.Join(", ", counters.Select(c => string.Create(CultureInfo.InvariantCulture, $"({c.Oid}::oid, {c.Inserted}::bigint, {c.Updated}::bigint, {c.Deleted}::bigint)")));

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
