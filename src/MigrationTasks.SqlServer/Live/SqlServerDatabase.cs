using System.Data;
using System.Diagnostics;
using System.Globalization;
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

    private SqlServerDatabase(SqlConnectionStringBuilder settings, SqlConnection connection, SqlServerIdentity identity)
    {
        _settings = settings;
        _connection = connection;
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
            return await SqlServerDeployLock.AcquireAsync(_settings, Name, inMaster, DisplayName, maxWait, cancellationToken);
        }
        catch (DiagnosticException e) when (inMaster && e.Diagnostics[0].Code == DiagnosticCodes.CannotConnect)
        {
            return await SqlServerDeployLock.AcquireAsync(_settings, Name, inMaster: false, DisplayName, maxWait, cancellationToken);
        }
    }

    public async Task<string?> WhyReadOnlyAsync(CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand("SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(20))", await SessionAsync(cancellationToken));
        return await command.ExecuteScalarAsync(cancellationToken) as string == "READ_ONLY"
            ? "the database is READ_ONLY (ALTER DATABASE … SET READ_ONLY, or a readable secondary replica): it accepts no changes. Deploy to the primary, or when it is writable again"
            : null;
    }

    // Completed by the SQL Server parity work of the runner issue (same protocol as PostgreSQL's).
    public Task<IReadOnlyList<DeployAttempt>> ReadDeployAttemptsAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("SQL Server deploy attempts are not written yet.");

    public Task RecordDeployAttemptAsync(DeployAttempt attempt, CancellationToken cancellationToken) =>
        throw new NotSupportedException("SQL Server deploy attempts are not written yet.");

    public Task<int> EndOrphanedDeploySessionsAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("SQL Server deploy attempts are not written yet.");

    public Task<IReleaseTransaction> BeginReleaseTransactionAsync(ApplyContext context, CancellationToken cancellationToken) =>
        throw new NotSupportedException("SQL Server release transactions are not written yet.");

    public async Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken) =>
        await SqlServerHistory.ReadAsync(await SessionAsync(cancellationToken), cancellationToken);

    public async Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken);
        await SqlServerHistory.EnsureTableAsync(connection, cancellationToken);
        _sessionUsed = true;
        if (step.Script.InTransaction)
        {
            await ApplyInTransactionAsync(connection, step, context, cancellationToken);
        }
        else
        {
            await ApplyBatchByBatchAsync(connection, step, context, cancellationToken);
        }
    }

    public async Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken)
    {
        var connection = await SessionAsync(cancellationToken);
        _sessionUsed = true;
        var clock = Stopwatch.StartNew();
        var result = new LastResultSet();
        ScriptFailedException? error = null;
        await ExecuteAsync(connection, null, "SET XACT_ABORT ON", cancellationToken);
        var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            for (var i = 0; i < test.Statements.Count && error is null; i++)
            {
                var batch = test.Statements[i];
                try
                {
                    await using var command = new SqlCommand(batch.Text, connection, transaction) { CommandTimeout = _settings.CommandTimeout };
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    do
                    {
                        await result.ReadAsync(reader, batch, (row, column) => Convert.ToString(row.GetValue(column), CultureInfo.InvariantCulture) ?? "", cancellationToken);
                    }
                    while (await reader.NextResultAsync(cancellationToken));
                }
                catch (SqlException e)
                {
                    error = SqlServerErrors.Failure(e, batch, i + 1);
                }

                // A test that commits or rolls back the transaction it runs in is an error: what it changed may stay.
                if (error is null && transaction.Connection is null)
                {
                    error = SqlServerErrors.TransactionEnded(batch, i + 1,
                        "this batch ended the transaction the query runs in (COMMIT or ROLLBACK), so what it changed before may be committed: " +
                        "a test, check or verification query must leave its transaction alone", null);
                }
            }
        }
        finally
        {
            await RollBackQuietlyAsync(transaction);
        }

        return result.ToRun(error, clock.Elapsed);
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
            return (null, $"{e.Number}: {e.Message}");
        }

        try
        {
            var shadow = await OpenAsync(SqlServerConnections.ForDatabase(_settings, name), cancellationToken);
            return (new SqlServerScratchDatabase(shadow, () => DropDatabaseAsync(name)), null);
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
        await SqlServerBackups.RestoreAsync(_settings, Name, DisplayName, backup, cancellationToken);
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
    /// Creates the history table if missing: before DacFx plans a dev deploy from a dacpac that holds it, so that the
    /// plan does not create it too (the runner creates it before applying, and the script's CREATE would then fail).
    /// </summary>
    internal async Task EnsureHistoryAsync(CancellationToken cancellationToken) =>
        await SqlServerHistory.EnsureTableAsync(await SessionAsync(cancellationToken), cancellationToken);

    /// <summary>A message of DacFx or the server with this connection's password taken out.</summary>
    internal string Redact(string message) => SqlServerConnections.Redact(message, _settings);

    /// <summary>The open session, a fresh one when the last migration, test or rehearsal used it.</summary>
    private async Task<SqlConnection> SessionAsync(CancellationToken cancellationToken)
    {
        if (_sessionUsed || _connection.State != ConnectionState.Open)
        {
            await _connection.DisposeAsync();
            _connection = await OpenConnectionAsync(_settings, cancellationToken);
            _sessionUsed = false;
        }

        return _connection;
    }

    private async Task ApplyInTransactionAsync(SqlConnection connection, MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var statements = step.Script.Statements;
        // XACT_ABORT ON: any run-time error rolls the whole transaction back, instead of ending only the statement
        // and letting the next batches run on (SQL Server's default for many errors).
        await ExecuteAsync(connection, null, "SET XACT_ABORT ON", cancellationToken);
        var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await ExecuteInTransactionAsync(connection, transaction, statements, _settings.CommandTimeout, cancellationToken);
            await SqlServerHistory.InsertAsync(connection, transaction, step, context, "success", statements.Count, startedAt, null, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (ScriptFailedException failure)
        {
            await RollBackQuietlyAsync(transaction);
            await SqlServerHistory.InsertAsync(connection, null, step, context, "failed", 0, startedAt, SqlServerErrors.Describe(failure), CancellationToken.None);
            throw;
        }
        finally
        {
            await transaction.DisposeAsync();
        }
    }

    /// <summary>Runs batches inside the migration's transaction, checking @@TRANCOUNT after each (see <see cref="TransactionCountRule"/>).</summary>
    internal static async Task ExecuteInTransactionAsync(
        SqlConnection connection, SqlTransaction transaction, IReadOnlyList<ScriptStatement> batches, int commandTimeout, CancellationToken cancellationToken)
    {
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            try
            {
                await using var command = new SqlCommand(batch.Text, connection, transaction) { CommandTimeout = commandTimeout };
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqlException e)
            {
                throw SqlServerErrors.Failure(e, batch, i + 1);
            }
            catch (InvalidOperationException e) when (transaction.Connection is null)
            {
                // A previous batch's COMMIT/ROLLBACK was seen by SqlClient only now.
                throw SqlServerErrors.TransactionEnded(batch, i + 1, TransactionCountRule.Check(0, false)!, e);
            }

            // SqlClient forgets a transaction the server ended (Connection becomes null): @@TRANCOUNT is then 0.
            var count = transaction.Connection is null ? 0 : await TranCountAsync(connection, transaction, cancellationToken);
            if (TransactionCountRule.Check(count, i == batches.Count - 1) is { } problem)
            {
                throw SqlServerErrors.TransactionEnded(batch, i + 1, problem, null);
            }
        }
    }

    private async Task ApplyBatchByBatchAsync(SqlConnection connection, MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        var batches = step.Script.Statements;
        var id = await SqlServerHistory.InsertAsync(connection, null, step, context, "running", step.FirstStatement, DateTimeOffset.UtcNow, null, cancellationToken);
        for (var i = step.FirstStatement; i < batches.Count; i++)
        {
            try
            {
                await using var command = new SqlCommand(batches[i].Text, connection) { CommandTimeout = _settings.CommandTimeout };
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqlException e)
            {
                var failure = SqlServerErrors.Failure(e, batches[i], i + 1);
                await SqlServerHistory.UpdateProgressAsync(connection, id, step, i, "failed", SqlServerErrors.Describe(failure), CancellationToken.None);
                throw failure;
            }

            var done = i + 1 == batches.Count;
            await SqlServerHistory.UpdateProgressAsync(connection, id, step, i + 1, done ? "success" : "running", null, cancellationToken);
        }

        if (batches.Count == step.FirstStatement)
        {
            await SqlServerHistory.UpdateProgressAsync(connection, id, step, batches.Count, "success", null, cancellationToken);
        }
    }

    private static async Task<int> TranCountAsync(SqlConnection connection, SqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand("SELECT @@TRANCOUNT", connection, transaction);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
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
