using System.Diagnostics;
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
    /// Statements sent per round trip in a transactional migration. Batching is what lets a 10,000-statement file
    /// apply at psql's speed while an error still names its exact statement (Npgsql reports the failing command).
    /// </summary>
    private const int StatementsPerBatch = 200;

    private readonly NpgsqlConnectionStringBuilder _settings;
    private NpgsqlConnection _connection;

    private PostgresDatabase(NpgsqlConnectionStringBuilder settings, NpgsqlConnection connection)
    {
        _settings = settings;
        _connection = connection;
        DisplayName = PostgresConnections.Describe(settings);
    }

    public string DisplayName { get; }

    public string Name => _connection.Database;

    public static async Task<PostgresDatabase> OpenAsync(NpgsqlConnectionStringBuilder settings, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(settings.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new Diagnostics.DiagnosticException(Diagnostics.Diagnostic.Error(
                Diagnostics.DiagnosticCodes.CannotConnect,
                $"cannot connect to {PostgresConnections.Describe(settings)} as '{settings.Username}': {e.Message} " +
                "Check that the server runs and that the connection string's host, port, database and credentials are right."));
        }

        return new PostgresDatabase(settings, connection);
    }

    public async Task<IAsyncDisposable> AcquireDeployLockAsync(TimeSpan maxWait, CancellationToken cancellationToken) =>
        await PostgresDeployLock.AcquireAsync(_settings, DisplayName, maxWait, cancellationToken);

    public Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken) =>
        PostgresHistory.ReadAsync(_connection, cancellationToken);

    public async Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        await PostgresHistory.EnsureTableAsync(_connection, cancellationToken);
        try
        {
            if (step.Script.InTransaction)
            {
                await ApplyInTransactionAsync(step, context, cancellationToken);
            }
            else
            {
                await ApplyStatementByStatementAsync(step, context, cancellationToken);
            }
        }
        finally
        {
            // Each migration starts from a clean session, as each `psql -f` would: settings such as
            // set_config('search_path', …, false) made by one script must not reach the next. A broken connection
            // is left alone so that the migration's own failure is the one reported.
            if (_connection.FullState == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync("DISCARD ALL", CancellationToken.None);
            }
        }
    }

    public async Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = new LastResultSet();
        ScriptFailedException? error = null;
        await using (var transaction = await _connection.BeginTransactionAsync(cancellationToken))
        {
            for (var i = 0; i < test.Statements.Count && error is null; i++)
            {
                var statement = test.Statements[i];
                // Values are read as text: a test may return types (enums, domains) that the driver has never seen.
                await using var command = VerbatimSql.Command(statement.Text, _connection, transaction);
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

            await transaction.RollbackAsync(CancellationToken.None);
        }

        await ExecuteAsync("DISCARD ALL", CancellationToken.None);
        return result.ToRun(error, clock.Elapsed);
    }

    public Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken) =>
        SchemaSnapshotReader.ReadAsync(_connection, null, cancellationToken);

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
            return (null, $"{e.SqlState}: {e.MessageText}");
        }

        var settings = new NpgsqlConnectionStringBuilder(_settings.ConnectionString) { Database = name };
        var shadow = await OpenAsync(settings, cancellationToken);
        return (new ShadowDatabase(shadow, async () => await ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", CancellationToken.None)), null);
    }

    public Task<DatabaseBackup> BackupAsync(string backupDirectory, bool hashRows, CancellationToken cancellationToken) =>
        PostgresBackups.BackupAsync(_connection, _settings, DisplayName, backupDirectory, hashRows, cancellationToken);

    public async Task RestoreAsync(DatabaseBackup backup, CancellationToken cancellationToken)
    {
        // A restore follows a failure: the migration's session may be broken, in an aborted transaction, or holding
        // locks the restore would wait on. A new session starts clean; ending the old one releases its locks.
        await _connection.DisposeAsync();
        _connection = new NpgsqlConnection(_settings.ConnectionString);
        await _connection.OpenAsync(cancellationToken);
        await PostgresBackups.RestoreAsync(_connection, _settings, DisplayName, backup, cancellationToken);
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
            return (null, $"{e.SqlState}: {e.MessageText}");
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
            return (new ShadowDatabase(copy, Drop, "copy"), null);
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

    private async Task ApplyInTransactionAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var statements = step.Script.Statements;
        await using (var transaction = await _connection.BeginTransactionAsync(cancellationToken))
        {
            try
            {
                await ExecuteBatchedAsync(_connection, transaction, statements, cancellationToken);
                await PostgresHistory.InsertAsync(_connection, transaction, step, context, "success", statements.Count, startedAt, null, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (ScriptFailedException failure)
            {
                await transaction.RollbackAsync(CancellationToken.None);
                await PostgresHistory.InsertAsync(_connection, null, step, context, "failed", 0, startedAt, Describe(failure), CancellationToken.None);
                throw;
            }
        }
    }

    /// <summary>Runs statements in batches inside a transaction; a failure names its statement.</summary>
    internal static async Task ExecuteBatchedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ScriptStatement> statements, CancellationToken cancellationToken)
    {
        for (var first = 0; first < statements.Count; first += StatementsPerBatch)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var statement in statements.Skip(first).Take(StatementsPerBatch))
            {
                batch.BatchCommands.Add(VerbatimSql.BatchCommand(statement.Text));
            }

            try
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e)
            {
                var index = e.BatchCommand is null ? 0 : batch.BatchCommands.IndexOf(e.BatchCommand);
                throw Failure(e, statements[first + index], first + index + 1);
            }
        }
    }

    private async Task ApplyStatementByStatementAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        var statements = step.Script.Statements;
        var id = await PostgresHistory.InsertAsync(_connection, null, step, context, "running", step.FirstStatement, DateTimeOffset.UtcNow, null, cancellationToken);
        for (var i = step.FirstStatement; i < statements.Count; i++)
        {
            try
            {
                await using var command = VerbatimSql.Command(statements[i].Text, _connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e)
            {
                var failure = Failure(e, statements[i], i + 1);
                await PostgresHistory.UpdateProgressAsync(_connection, id, step, i, "failed", Describe(failure), CancellationToken.None);
                throw failure;
            }

            var done = i + 1 == statements.Count;
            await PostgresHistory.UpdateProgressAsync(_connection, id, step, i + 1, done ? "success" : "running", null, cancellationToken);
        }

        if (statements.Count == step.FirstStatement)
        {
            await PostgresHistory.UpdateProgressAsync(_connection, id, step, statements.Count, "success", null, cancellationToken);
        }
    }

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
            e);

    private static string Describe(ScriptFailedException failure) =>
        $"statement {failure.StatementNumber} (line {failure.Statement.Line}): {failure.ErrorCode}: {failure.ServerMessage}";
}
