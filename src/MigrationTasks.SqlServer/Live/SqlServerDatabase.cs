using System.Data;
using System.Diagnostics;
using System.Globalization;
using MigrationTasks.Applying;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using MigrationTasks.Scripts;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// One SQL Server database: applies migrations batch by batch (the GO-split of the engine's Prepare), runs tests,
/// backs up and restores. Each migration and each test gets a fresh session (pooling is off), as each sqlcmd run would:
/// SET options, EXECUTE AS and temp tables of one script must not reach the next.
/// </summary>
internal sealed class SqlServerDatabase : ITargetDatabase
{
    private readonly SqlConnectionStringBuilder _settings;
    private readonly SqlServerIdentity _identity;
    private SqlConnection _connection;
    private bool _sessionUsed;
    private SqlServerDeployLock? _lock;
    private bool _historyEnsured;
    private string _sessionName;

    private SqlServerDatabase(SqlConnectionStringBuilder settings, SqlConnection connection, SqlServerIdentity identity)
    {
        _settings = settings;
        _connection = connection;
        _sessionName = settings.ApplicationName;
        _identity = identity;
        DisplayName = SqlServerConnections.Describe(settings, identity.Database);
    }

    public string DisplayName { get; }

    /// <summary>The database's name on the server (the connection string's, or the login's default database).</summary>
    public string Name => _identity.Database;

    /// <summary>
    /// Opens the database: this is also the connection check that must come before any DacFx call, since DacFx
    /// retries an unreachable server for minutes. It fails within the connect timeout (15 s unless the string sets
    /// one) with MIG1004, which names server and database but never the connection string.
    /// </summary>
    public static async Task<SqlServerDatabase> OpenAsync(SqlConnectionStringBuilder settings, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(settings, cancellationToken);
        try
        {
            await using var command = new SqlCommand(
                "SELECT DB_NAME(), CAST(SERVERPROPERTY('EngineEdition') AS int), CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) + N' ' + CAST(SERVERPROPERTY('Edition') AS nvarchar(128))",
                connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var identity = new SqlServerIdentity(reader.GetString(0), reader.GetInt32(1), $"SQL Server {reader.GetString(2)}");
            return new SqlServerDatabase(settings, connection, identity);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    internal static async Task<SqlConnection> OpenConnectionAsync(SqlConnectionStringBuilder settings, CancellationToken cancellationToken)
    {
        var connection = new SqlConnection(settings.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Any failure to open is MIG1004: SqlException for network and login errors, and whatever an Entra ID
            // credential (Authentication=Active Directory Default) throws when no identity is available.
            await connection.DisposeAsync();
            var how = settings.Authentication == SqlAuthenticationMethod.NotSpecified
                ? settings.IntegratedSecurity ? "with integrated security" : $"as '{settings.UserID}'"
                : $"with Authentication={settings.Authentication}";
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.CannotConnect,
                $"cannot connect to {SqlServerConnections.Describe(settings)} {how} within {settings.ConnectTimeout} s: " +
                $"{SqlServerConnections.Redact(e.Message, settings)} " +
                "Check that the server runs and is reachable, and that the connection string's server, database, credentials and Encrypt/TrustServerCertificate settings are right."));
        }
    }

    public async Task<IDeployLock> AcquireDeployLockAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        // In master where there is one (see SqlServerDeployLock); a login that may not connect to master locks in the database.
        var inMaster = _identity.EngineEdition != 5;
        try
        {
            return _lock = await SqlServerDeployLock.AcquireAsync(_settings, Name, inMaster, DisplayName, maxWait, cancellationToken);
        }
        catch (DiagnosticException e) when (inMaster && e.Diagnostics[0].Code == DiagnosticCodes.CannotConnect)
        {
            return _lock = await SqlServerDeployLock.AcquireAsync(_settings, Name, inMaster: false, DisplayName, maxWait, cancellationToken);
        }
    }

    /// <summary>
    /// Proves the deploy lock, while this database holds one, before each migration, each batch of a batch-by-batch
    /// one and each commit. PostgreSQL proves its lock inside the migration's transaction (pg_locks); SQL Server shows
    /// another session's application lock only to a login with VIEW SERVER STATE (sys.dm_tran_locks), which a deploy
    /// login rarely has. So here the history's unique index is the in-database guarantee that a migration is applied
    /// once (see <see cref="SqlServerHistory"/>), and this ping on the lock's own session is the early stop: a runner
    /// whose lock session was ended stops before its next migration, batch or commit.
    /// </summary>
    internal Task ProveLockAsync(CancellationToken cancellationToken) =>
        _lock is { IsReleased: false } held ? held.ProveHeldAsync(cancellationToken) : Task.CompletedTask;

    public async Task<string?> WhyReadOnlyAsync(CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand("SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(20))", await SessionAsync(cancellationToken));
        return await command.ExecuteScalarAsync(cancellationToken) as string == "READ_ONLY"
            ? "the database is READ_ONLY (ALTER DATABASE … SET READ_ONLY, or a readable secondary replica): it accepts no changes. Deploy to the primary, or when it is writable again"
            : null;
    }

    public async Task<IReadOnlyList<DeployAttempt>> ReadDeployAttemptsAsync(CancellationToken cancellationToken) =>
        await SqlServerDeployJournal.ReadAsync(await SessionAsync(cancellationToken), null, cancellationToken);

    public async Task RecordDeployAttemptAsync(DeployAttempt attempt, CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken);
        await EnsureHistoryAsync(connection, cancellationToken);
        await SqlServerDeployJournal.RecordAsync(connection, null, attempt, cancellationToken);
    }

    /// <summary>
    /// The user sessions of this database whose program_name says they are a production runner's migration sessions
    /// (see <see cref="SqlServerConnections.DeploySessionName"/>), other than this one. Without VIEW SERVER STATE
    /// (VIEW DATABASE STATE on Azure SQL Database) sys.dm_exec_sessions shows a login its own session only: none.
    /// </summary>
    internal const string OrphanedSessionsSql = $"""
        SELECT s.session_id, s.login_time FROM sys.dm_exec_sessions AS s
        WHERE s.database_id = DB_ID() AND s.session_id <> @@SPID AND s.is_user_process = 1
          AND s.program_name LIKE N'{SqlServerConnections.DeploySessionPrefix}%'
        """;

    public async Task<int> EndOrphanedDeploySessionsAsync(CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken);
        var orphans = new List<(short Id, DateTime LoginTime)>();
        await using (var command = new SqlCommand(OrphanedSessionsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                orphans.Add((reader.GetInt16(0), reader.GetDateTime(1)));
            }
        }

        var ended = new List<(short Id, DateTime LoginTime)>();
        foreach (var orphan in orphans)
        {
            try
            {
                // KILL takes no variable; the id is a number the server gave.
                await ExecuteAsync(connection, null, $"KILL {orphan.Id.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
                ended.Add(orphan);
            }
            catch (SqlException e) when (e.Number == SessionGone)
            {
                // It ended by itself between the two statements.
            }
            catch (SqlException)
            {
                // KILL needs ALTER ANY CONNECTION (or processadmin). Without it the orphans stay: nothing breaks, the
                // deploy's statements then wait for their locks (and give up after the statement lock timeout) as
                // they would for any other session's.
                break;
            }
        }

        await WaitUntilEndedAsync(connection, ended, cancellationToken);
        return ended.Count;
    }

    /// <summary>"Process ID … is not an active process ID."</summary>
    private const int SessionGone = 6106;

    /// <summary>
    /// KILL returns while the session rolls back its transaction; its locks go when it is gone. Session ids are
    /// reused at once, hence the login time too.
    /// </summary>
    private static async Task WaitUntilEndedAsync(SqlConnection connection, IReadOnlyList<(short Id, DateTime LoginTime)> sessions, CancellationToken cancellationToken)
    {
        if (sessions.Count == 0)
        {
            return;
        }

        var which = string.Join(" OR ", sessions.Select((_, i) => $"(session_id = @id{i} AND login_time = @login{i})"));
        for (var wait = 0; wait < 100; wait++)
        {
            await using var left = new SqlCommand($"SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE {which}", connection);
            for (var i = 0; i < sessions.Count; i++)
            {
                left.Parameters.Add(new SqlParameter($"@id{i}", SqlDbType.SmallInt) { Value = sessions[i].Id });
                left.Parameters.Add(new SqlParameter($"@login{i}", SqlDbType.DateTime) { Value = sessions[i].LoginTime });
            }

            if ((int)(await left.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    public async Task<IReleaseTransaction> BeginReleaseTransactionAsync(ApplyContext context, CancellationToken cancellationToken)
    {
        await EnsureHistoryAsync(await SessionAsync(cancellationToken), cancellationToken);
        return await SqlServerReleaseTransaction.BeginAsync(this, SqlServerConnections.Named(_settings, DeploySessionNameOf(context)), context, cancellationToken);
    }

    public async Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken) =>
        await SqlServerHistory.ReadAsync(await SessionAsync(cancellationToken), cancellationToken);

    public async Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken, DeploySessionNameOf(context));
        await EnsureHistoryAsync(connection, cancellationToken);
        _sessionUsed = true;
        await MigrationApplier.ApplyAsync(new SqlServerMigrationSession(this, connection, context, _settings.CommandTimeout), step, context, cancellationToken);
    }

    public async Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken);
        _sessionUsed = true;
        var clock = Stopwatch.StartNew();
        await ExecuteAsync(connection, null, "SET XACT_ABORT ON", cancellationToken);
        var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            var (result, error) = await RunQueryAsync(connection, transaction, test, _settings.CommandTimeout, _ => Task.FromResult(transaction.Connection is null), cancellationToken);
            return result.ToRun(error, clock.Elapsed);
        }
        finally
        {
            await RollBackQuietlyAsync(transaction);
        }
    }

    /// <summary>Why a test, check or verification query that ended its transaction failed.</summary>
    internal const string QueryEndedTransaction =
        "this batch ended the transaction the query runs in (COMMIT or ROLLBACK), so what it changed before may be committed: " +
        "a test, check or verification query must leave its transaction alone";

    /// <summary>
    /// Runs a zero-rows query's batches in <paramref name="transaction"/>, keeping the last result set; stops at the
    /// first error, or after a batch that <paramref name="endedTransaction"/> says ended the transaction the query runs
    /// in (what it changed before may then be committed).
    /// </summary>
    internal static async Task<(LastResultSet Result, ScriptFailedException? Error)> RunQueryAsync(
        SqlConnection connection, SqlTransaction transaction, PreparedScript query, int commandTimeout, Func<CancellationToken, Task<bool>> endedTransaction,
        CancellationToken cancellationToken)
    {
        var result = new LastResultSet();
        for (var i = 0; i < query.Statements.Count; i++)
        {
            var batch = query.Statements[i];
            try
            {
                await using var command = new SqlCommand(batch.Text, connection, transaction) { CommandTimeout = commandTimeout };
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                do
                {
                    await result.ReadAsync(reader, batch, (row, column) => Convert.ToString(row.GetValue(column), CultureInfo.InvariantCulture) ?? "", cancellationToken);
                }
                while (await reader.NextResultAsync(cancellationToken));
            }
            catch (SqlException e)
            {
                return (result, SqlServerErrors.Failure(e, batch, i + 1));
            }

            if (await endedTransaction(cancellationToken))
            {
                return (result, SqlServerErrors.TransactionEnded(batch, i + 1, QueryEndedTransaction, null));
            }
        }

        return (result, null);
    }

    public async Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken) =>
        await SqlServerSchemaReader.ReadAsync(await SessionAsync(cancellationToken), null, cancellationToken);

    public async Task<IRehearsal> BeginRehearsalAsync(CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken);
        _sessionUsed = true;
        await ExecuteAsync(connection, null, "SET XACT_ABORT ON", cancellationToken);
        var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
        return new SqlServerRehearsal(connection, transaction);
    }

    public async Task<(ITargetDatabase? Shadow, string? Reason)> TryCreateShadowAsync(CancellationToken cancellationToken)
    {
        var name = $"migrationtasks_shadow_{Guid.NewGuid():N}"[..40];
        var connection = await SessionAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, $"CREATE DATABASE {SqlServerConnections.QuoteName(name)}", cancellationToken);
        }
        catch (SqlException e)
        {
            // 262: CREATE DATABASE permission denied.
            return (null, $"{e.Number}: {e.Message}" + (e.Number == 262 ? " (grant CREATE ANY DATABASE, or the dbcreator role, to the login)" : ""));
        }

        try
        {
            var shadow = await OpenAsync(SqlServerConnections.ForDatabase(_settings, name), cancellationToken);
            return (new ScratchDatabase(shadow, () => DropDatabaseAsync(name)), null);
        }
        catch
        {
            await DropDatabaseAsync(name);
            throw;
        }
    }

    public async Task<DatabaseBackup> BackupAsync(string backupDirectory, bool hashRows, CancellationToken cancellationToken) =>
        await SqlServerBackups.BackupAsync(await SessionAsync(cancellationToken), _identity, DisplayName, backupDirectory, cancellationToken);

    public async Task RestoreAsync(DatabaseBackup backup, RestoreOptions options, CancellationToken cancellationToken)
    {
        if (!options.DiscardLaterWrites)
        {
            // SQL Server keeps no per-table write counters that survive as PostgreSQL's do: the runner cannot prove
            // that nobody wrote since the backup, so it never restores over a live database on its own.
            throw new WritesSinceBackupException(backup.Id, [
                "unknown: SQL Server keeps no write counters the runner can compare, so whether other sessions wrote since the backup cannot be told"]);
        }

        // RESTORE needs the database to itself: our own session goes first, and the next call opens a new one.
        await _connection.DisposeAsync();
        _sessionUsed = true;
        // The restore puts back the history schema as the backup had it.
        _historyEnsured = false;
        await SqlServerBackups.RestoreAsync(_settings, Name, DisplayName, backup, cancellationToken);
        if (options.Attempt is { } attempt)
        {
            // RESTORE replaces the whole database and cannot run in a transaction, so unlike PostgreSQL's restore the
            // record cannot be written atomically with it: it is written after the restore is proven. The backup was
            // taken before the attempt was first recorded, so the restored database holds no row of it: should this
            // write fail, the database (at its pre-deploy state, no attempt open) and the missing record still agree,
            // and the proven restore is not reported as failed for it.
            try
            {
                await RecordDeployAttemptAsync(attempt, cancellationToken);
            }
            catch (Exception e) when (e is SqlException or DiagnosticException)
            {
                // See above: nothing to undo.
            }
        }
    }

    public async Task<(ITargetDatabase? Copy, string? Reason)> TryCreateCopyAsync(CancellationToken cancellationToken) =>
        await SqlServerDatabaseCopy.TryCreateAsync(await SessionAsync(cancellationToken), _settings, _identity, cancellationToken);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    /// <summary>
    /// DacFx's services on this database, for what SqlClient alone cannot do (reading the live model to plan a deploy).
    /// Only after <see cref="OpenAsync"/>'s short connection check has passed: DacFx retries an unreachable server for minutes.
    /// </summary>
    internal Microsoft.SqlServer.Dac.DacServices DacServices() => new(_settings.ConnectionString);

    /// <summary>
    /// Creates or upgrades the history table: before DacFx plans a dev deploy from a dacpac that holds it, so that
    /// the plan neither creates it too (the runner creates it before applying, and the script's CREATE would then
    /// fail) nor alters an older one. Returns whether the database has the production runner's deploys table, which
    /// the dacpac must then hold too.
    /// </summary>
    internal async Task<bool> EnsureHistoryAsync(CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken);
        await EnsureHistoryAsync(connection, cancellationToken);
        return await SqlServerDeployJournal.ExistsAsync(connection, null, cancellationToken);
    }

    /// <summary>Creates or upgrades the history tables once per database object (a restore may put an older one back).</summary>
    private async Task EnsureHistoryAsync(SqlConnection connection, CancellationToken cancellationToken)
    {
        if (!_historyEnsured)
        {
            await SqlServerHistory.EnsureTableAsync(connection, cancellationToken);
            _historyEnsured = true;
        }
    }

    private static string? DeploySessionNameOf(ApplyContext context) =>
        SqlServerConnections.DeploySessionName(context.DeployId, Environment.MachineName);

    /// <summary>A message of DacFx or the server with this connection's password taken out.</summary>
    internal string Redact(string message) => SqlServerConnections.Redact(message, _settings);

    /// <summary>
    /// The open session, a fresh one when the last migration, test or rehearsal used it, or when it must bear
    /// another name (<paramref name="applicationName"/>: a deploy's migration session; null: the connection string's).
    /// </summary>
    private async Task<SqlConnection> SessionAsync(CancellationToken cancellationToken, string? applicationName = null)
    {
        var settings = SqlServerConnections.Named(_settings, applicationName);
        if (_sessionUsed || _connection.State != ConnectionState.Open || _sessionName != settings.ApplicationName)
        {
            await _connection.DisposeAsync();
            _connection = await OpenConnectionAsync(settings, cancellationToken);
            _sessionName = settings.ApplicationName;
            _sessionUsed = false;
        }

        return _connection;
    }

    /// <summary>Rolls back unless the server already did (XACT_ABORT, or the script's own ROLLBACK).</summary>
    internal static async Task RollBackQuietlyAsync(SqlTransaction transaction)
    {
        try
        {
            if (transaction.Connection is not null)
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or SqlException)
        {
            // Already ended on the server; closing the session (the next call opens a fresh one) ends anything left.
        }
    }

    private static async Task ExecuteAsync(SqlConnection connection, SqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task DropDatabaseAsync(string name)
    {
        try
        {
            var connection = await SessionAsync(CancellationToken.None);
            await ExecuteAsync(
                connection,
                null,
                $"IF DB_ID({SqlServerConnections.Literal(name)}) IS NOT NULL BEGIN ALTER DATABASE {SqlServerConnections.QuoteName(name)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE {SqlServerConnections.QuoteName(name)}; END",
                CancellationToken.None);
        }
        catch (Exception e) when (e is SqlException or DiagnosticException)
        {
            // A shadow that cannot be dropped is left behind with its recognisable name rather than failing the build.
        }
    }
}
