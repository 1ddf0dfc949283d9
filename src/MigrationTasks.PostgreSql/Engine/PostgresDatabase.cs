using System.Diagnostics;
using System.Globalization;
using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Schema;
using MigrationTasks.Schema;
using MigrationTasks.Scripts;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>One PostgreSQL database: applies migrations, runs tests, creates shadows.</summary>
internal sealed class PostgresDatabase : ITargetDatabase
{
    /// <summary>
    /// The application_name prefix of the production runner's migration sessions (see <see cref="EndOrphanedDeploySessionsAsync"/>);
    /// unlike the lock session's ("… deploy lock"), which another runner may hold or wait with.
    /// </summary>
    internal const string DeploySessionName = PostgresConnections.ApplicationName + " migrate";

    /// <summary>
    /// Every session of the runner waits at times (idle between steps, idle in a transaction while pg_dump reads its
    /// snapshot or a check runs): a server's idle timeouts must not end it half-way. idle_session_timeout exists
    /// from PostgreSQL 14. Re-applied after each DISCARD ALL, which resets it.
    /// </summary>
    private const string SessionSettings = """
        SELECT pg_catalog.set_config('idle_in_transaction_session_timeout', '0', false),
               CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 140000
                    THEN pg_catalog.set_config('idle_session_timeout', '0', false) END
        """;

    private readonly NpgsqlConnectionStringBuilder _settings;
    private NpgsqlConnection _connection;
    private PostgresDeployLock? _lock;
    private bool _historyEnsured;

    private PostgresDatabase(NpgsqlConnectionStringBuilder settings, NpgsqlConnection connection)
    {
        _settings = settings;
        _connection = connection;
        DisplayName = PostgresConnections.Describe(settings);
    }

    public string DisplayName { get; }

    public string Name => _connection.Database;

    /// <summary>The session holding this database's deploy lock, while one is held: every apply proves it.</summary>
    internal LockHolder? LockHolder => _lock is { IsReleased: false } held ? held.Holder : null;

    public static async Task<PostgresDatabase> OpenAsync(NpgsqlConnectionStringBuilder settings, CancellationToken cancellationToken) =>
        new(settings, await OpenConnectionAsync(settings, cancellationToken));

    private static async Task<NpgsqlConnection> OpenConnectionAsync(NpgsqlConnectionStringBuilder settings, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(settings.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(SessionSettings, connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new Diagnostics.DiagnosticException(Diagnostics.Diagnostic.Error(
                Diagnostics.DiagnosticCodes.CannotConnect,
                $"cannot connect to {PostgresConnections.Describe(settings)} as '{settings.Username}': {e.Message} " +
                "Check that the server runs and that the connection string's host, port, database and credentials are right."));
        }
    }

    public async Task<IDeployLock> AcquireDeployLockAsync(TimeSpan maxWait, CancellationToken cancellationToken) =>
        _lock = await PostgresDeployLock.AcquireAsync(_settings, DisplayName, maxWait, cancellationToken);

    public async Task<string?> WhyReadOnlyAsync(CancellationToken cancellationToken)
    {
        await SessionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('default_transaction_read_only'),
                   pg_catalog.current_setting('transaction_read_only')
            """,
            _connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (reader.GetBoolean(0))
        {
            return "it is a hot standby (pg_is_in_recovery() is true): it replays another server's changes and accepts none. Deploy to the primary";
        }

        if (reader.GetString(1) == "on" || reader.GetString(2) == "on")
        {
            return "its transactions are read-only (default_transaction_read_only is on for this database, role or server): " +
                   "someone froze it on purpose. Deploy when it is writable again, or to the right database";
        }

        return null;
    }

    public async Task<IReadOnlyList<DeployAttempt>> ReadDeployAttemptsAsync(CancellationToken cancellationToken) =>
        await PostgresDeployJournal.ReadAsync(await SessionAsync(cancellationToken), null, cancellationToken);

    public async Task RecordDeployAttemptAsync(DeployAttempt attempt, CancellationToken cancellationToken)
    {
        await SessionAsync(cancellationToken);
        await EnsureHistoryAsync(cancellationToken);
        await PostgresDeployJournal.RecordAsync(_connection, null, attempt, cancellationToken);
    }

    public async Task<int> EndOrphanedDeploySessionsAsync(CancellationToken cancellationToken)
    {
        var pids = new List<int>();
        await using (var command = new NpgsqlCommand(
            $"""
            SELECT a.pid FROM pg_catalog.pg_stat_activity a
            WHERE a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid()
              AND a.application_name LIKE '{DeploySessionName} %'
              AND NOT EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.pid = a.pid AND {PostgresDeployLock.IsHeldLock("l")})
            """,
            _connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                pids.Add(reader.GetInt32(0));
            }
        }

        if (pids.Count == 0)
        {
            return 0;
        }

        var list = string.Join(',', pids.Select(p => p.ToString(CultureInfo.InvariantCulture)));
        await ExecuteAsync($"SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE pid IN ({list})", cancellationToken);
        // pg_terminate_backend only signals: their locks go when they are gone.
        for (var wait = 0; wait < 100; wait++)
        {
            await using var left = new NpgsqlCommand($"SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid IN ({list})", _connection);
            if ((long)(await left.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                break;
            }

            await Task.Delay(50, cancellationToken);
        }

        return pids.Count;
    }

    public async Task<IReleaseTransaction> BeginReleaseTransactionAsync(ApplyContext context, CancellationToken cancellationToken)
    {
        await SessionAsync(cancellationToken);
        await EnsureHistoryAsync(cancellationToken);
        await NameSessionAsync(context, cancellationToken);
        var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        var ownAtStart = context.DeployId is null ? null : await PostgresWriteCounters.OwnAsync(_connection, transaction, cancellationToken);
        return new PostgresReleaseTransaction(this, _connection, transaction, context, ownAtStart);
    }

    public async Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken) =>
        await PostgresHistory.ReadAsync(await SessionAsync(cancellationToken), cancellationToken);

    public async Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        await SessionAsync(cancellationToken);
        await EnsureHistoryAsync(cancellationToken);
        await NameSessionAsync(context, cancellationToken);
        try
        {
            await MigrationApplier.ApplyAsync(new PostgresMigrationSession(this, _connection, context), step, context, cancellationToken);
        }
        finally
        {
            // Each migration starts from a clean session, as each `psql -f` would: settings such as
            // set_config('search_path', …, false) made by one script must not reach the next. A broken connection
            // is left alone so that the migration's own failure is the one reported.
            if (_connection.FullState == System.Data.ConnectionState.Open)
            {
                await ResetSessionAsync(CancellationToken.None);
            }
        }
    }

    public async Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken)
    {
        await SessionAsync(cancellationToken);
        TestRun run;
        await using (var transaction = await _connection.BeginTransactionAsync(cancellationToken))
        {
            run = await RunQueryAsync(_connection, transaction, test, cancellationToken);
            await transaction.RollbackAsync(CancellationToken.None);
        }

        await ResetSessionAsync(CancellationToken.None);
        return run;
    }

    /// <summary>Runs a zero-rows query's statements in <paramref name="transaction"/>, keeping its last result set; stops at the first error.</summary>
    internal static async Task<TestRun> RunQueryAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PreparedScript query, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = new LastResultSet();
        ScriptFailedException? error = null;
        for (var i = 0; i < query.Statements.Count && error is null; i++)
        {
            var statement = query.Statements[i];
            // Values are read as text: a query may return types (enums, domains) that the driver has never seen.
            await using var command = VerbatimSql.Command(statement.Text, connection, transaction);
            command.AllResultTypesAreUnknown = true;
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                await result.ReadAsync(reader, statement, (row, column) => row.GetString(column), cancellationToken);
            }
            catch (PostgresException e)
            {
                error = Failure(e, statement, i + 1);
            }
        }

        return result.ToRun(error, clock.Elapsed);
    }

    public async Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken) =>
        await SchemaSnapshotReader.ReadAsync(await SessionAsync(cancellationToken), null, cancellationToken);

    public async Task<IRehearsal> BeginRehearsalAsync(CancellationToken cancellationToken) =>
        new PostgresRehearsal(_connection, await _connection.BeginTransactionAsync(cancellationToken));

    public async Task<(ITargetDatabase? Shadow, string? Reason)> TryCreateShadowAsync(CancellationToken cancellationToken)
    {
        var name = $"migrationtasks_shadow_{Guid.NewGuid():N}"[..40];
        try
        {
            await ExecuteAsync($"CREATE DATABASE \"{name}\"", cancellationToken);
        }
        catch (PostgresException e)
        {
            return (null, $"{e.SqlState}: {e.MessageText}" + (e.SqlState == PostgresErrorCodes.InsufficientPrivilege ? " (grant CREATEDB to the login)" : ""));
        }

        var settings = new NpgsqlConnectionStringBuilder(_settings.ConnectionString) { Database = name };
        var shadow = await OpenAsync(settings, cancellationToken);
        return (new ScratchDatabase(shadow, async () => await ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", CancellationToken.None)), null);
    }

    public async Task<DatabaseBackup> BackupAsync(string backupDirectory, bool hashRows, CancellationToken cancellationToken) =>
        await PostgresBackups.BackupAsync(await SessionAsync(cancellationToken), _settings, DisplayName, backupDirectory, hashRows, cancellationToken);

    public async Task RestoreAsync(DatabaseBackup backup, RestoreOptions options, CancellationToken cancellationToken)
    {
        // A restore follows a failure: the migration's session may be broken, in an aborted transaction, or holding
        // locks the restore would wait on. A new session starts clean; ending the old one releases its locks.
        await ReconnectAsync(cancellationToken);
        var hooks = new RestoreHooks(
            PostgresWriteCounters.GuardSql(backup, options.Attempt?.Id, LockHolder, [.. new[] { LockHolder?.Pid, _connection.ProcessID }.OfType<int>()], options.DiscardLaterWrites),
            options.Attempt is { } attempt ? PostgresDeployJournal.UpsertSql(attempt) : "");
        try
        {
            await PostgresBackups.RestoreAsync(_connection, _settings, DisplayName, backup, cancellationToken, hooks);
        }
        catch (Diagnostics.DiagnosticException failed)
            when (failed.Diagnostics[0].Code == Diagnostics.DiagnosticCodes.RestoreFailed && PostgresWriteCounters.Refusal(backup.Id, failed.Diagnostics[0].Message) is { } refusal)
        {
            throw refusal;
        }
        finally
        {
            // The restore put back the history schema as the backup had it.
            _historyEnsured = false;
        }
    }

    /// <summary>Replaces the session with a new one (the old one broken, aborted or holding locks).</summary>
    internal async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        await _connection.DisposeAsync();
        _connection = await OpenConnectionAsync(_settings, cancellationToken);
        _historyEnsured = false;
    }

    /// <summary>
    /// The session, opened again when the server ended the last one (a terminated backend, a restart): what a
    /// failure left must be read back on a working session before the runner decides how to recover.
    /// </summary>
    private async Task<NpgsqlConnection> SessionAsync(CancellationToken cancellationToken)
    {
        if (_connection.FullState is System.Data.ConnectionState.Broken or System.Data.ConnectionState.Closed)
        {
            await ReconnectAsync(cancellationToken);
        }

        return _connection;
    }

    public async Task<(ITargetDatabase? Copy, string? Reason)> TryCreateCopyAsync(CancellationToken cancellationToken)
    {
        string source;
        await using (var current = new NpgsqlCommand("SELECT current_database()", _connection))
        {
            source = (string)(await current.ExecuteScalarAsync(cancellationToken))!;
        }

        var name = $"{CopyNamePrefix(source)}_copy_{Guid.NewGuid():N}"[..^24];
        try
        {
            await ExecuteAsync(await PostgresBackups.CreateDatabaseLikeAsync(_connection, name, cancellationToken), cancellationToken);
        }
        catch (PostgresException e)
        {
            return (null, $"{e.SqlState}: {e.MessageText}" + (e.SqlState == PostgresErrorCodes.InsufficientPrivilege ? " (grant CREATEDB to the login)" : ""));
        }

        async Task Drop() => await ExecuteAsync($"DROP DATABASE IF EXISTS {PostgresBackups.QuoteIdentifier(name)} WITH (FORCE)", CancellationToken.None);
        try
        {
            if (await PostgresBackups.CopyIntoAsync(_connection, _settings, name, cancellationToken) is { } failure)
            {
                await Drop();
                return (null, failure);
            }

            var copy = await OpenAsync(new NpgsqlConnectionStringBuilder(_settings.ConnectionString) { Database = name }, cancellationToken);
            return (new ScratchDatabase(copy, Drop, "copy"), null);
        }
        catch
        {
            await Drop();
            throw;
        }
    }

    // Database names are at most 63 bytes: the source's name is cut short, to ASCII letters, digits and underscores.
    private static string CopyNamePrefix(string source)
    {
        var safe = new string([.. source.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
        return safe[..Math.Min(safe.Length, 40)];
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    /// <summary>Creates or upgrades the history tables once per session (a restore may have put an older one back).</summary>
    internal async Task EnsureHistoryAsync(CancellationToken cancellationToken)
    {
        if (!_historyEnsured)
        {
            await PostgresHistory.EnsureTablesAsync(_connection, cancellationToken);
            _historyEnsured = true;
        }
    }

    /// <summary>
    /// DISCARD ALL, as a new session would start (settings, role, temp tables, prepared statements of the last
    /// script gone), then the runner's own session settings again.
    /// </summary>
    internal async Task ResetSessionAsync(CancellationToken cancellationToken)
    {
        await ExecuteAsync("DISCARD ALL", cancellationToken);
        await ExecuteAsync(SessionSettings, cancellationToken);
    }

    /// <summary>
    /// The production runner's sessions say so in application_name: a later run, holding the deploy lock, can tell
    /// the sessions of a runner that died mid-statement from the application's.
    /// </summary>
    private async Task NameSessionAsync(ApplyContext context, CancellationToken cancellationToken)
    {
        if (DeploySessionNameOf(context) is { } name)
        {
            await using var command = new NpgsqlCommand("SELECT pg_catalog.set_config('application_name', $1, false)", _connection);
            command.Parameters.Add(new NpgsqlParameter { Value = name });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    internal static string? DeploySessionNameOf(ApplyContext context) =>
        context.DeployId is { } deployId ? $"{DeploySessionName} {deployId} ({Environment.MachineName})" : null;

    /// <summary>SET LOCAL lock_timeout for the runner's statement lock timeout, or nothing.</summary>
    internal static string LockTimeoutSql(ApplyContext context, bool local) =>
        context.StatementLockTimeout is { } timeout
            ? $"SET {(local ? "LOCAL " : "")}lock_timeout = '{(long)Math.Max(1, timeout.TotalMilliseconds)}ms'"
            : "";

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, _connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static ScriptFailedException Failure(PostgresException e, ScriptStatement statement, int number) =>
        new(
            statement,
            number,
            e.SqlState,
            e.MessageText,
            e.Position > 0 ? statement.Offset + e.Position - 1 : null,
            e.Detail,
            e.Hint,
            e,
            isLockTimeout: e.SqlState == PostgresErrorCodes.LockNotAvailable);
}
