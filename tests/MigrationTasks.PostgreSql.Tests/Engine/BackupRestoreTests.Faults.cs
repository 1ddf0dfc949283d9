using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json.Nodes;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Engine;
using Npgsql;

namespace MigrationTasks.PostgreSql.Tests.Engine;

/// <summary>Backups and restores under faults and attack: a killed runner, hostile names, forged metadata, server timeouts, hooks.</summary>
public sealed partial class BackupRestoreTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Test]
    [Platform("Linux")]
    [SupportedOSPlatform("linux")]
    public async Task A_runner_killed_during_the_backup_leaves_no_pg_dump_running_and_no_file_anyone_else_can_read()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var locker = await HoldSequenceAsync(connectionString);
        var folder = NewFolder();

        using var runner = BackupProcess.Start(connectionString, folder);
        var runnerOutput = runner.StandardOutput.ReadToEndAsync();
        var runnerErrors = runner.StandardError.ReadToEndAsync();
        var partial = await WaitForBlockedDumpAsync(connectionString, folder, () => runner.HasExited ? $"the backup process ended: {runnerOutput.Result} {runnerErrors.Result}" : null);
        var pgDump = PgDumpProcesses(runner.Id, database).Single();
        Assert.That(File.GetUnixFileMode(partial), Is.EqualTo(OwnerOnly), "the dump is private from the moment it exists");

        runner.Kill(entireProcessTree: false);
        await runner.WaitForExitAsync();
        Assert.That(IsRunning(pgDump), "pg_dump outlives the runner while it waits for its lock: it has written nothing yet");
        await locker.ReleaseAsync();

        Assert.That(await EventuallyAsync(() => !IsRunning(pgDump)), "pg_dump met the broken pipe at its first write and exited");
        Assert.That(await EventuallyAsync(async () => await DumpSessionsAsync(connectionString, waitingOnLock: false) == 0), "pg_dump's session ended with it");
        Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { partial }), "nothing but the partial file, which no one finished");
        Assert.That(File.GetUnixFileMode(partial), Is.EqualTo(OwnerOnly));
        Assert.That(new FileInfo(partial).Length, Is.Zero, "pg_dump never wrote a byte: its output went to the runner, not to the file");
    }

    [Test]
    [Platform("Linux")]
    [SupportedOSPlatform("linux")]
    public async Task A_cancelled_backup_ends_pg_dump_and_deletes_its_partial_file()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var databaseName = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var locker = await HoldSequenceAsync(connectionString);
        var folder = NewFolder();
        await using var database = await new PostgresEngine().ConnectAsync(connectionString, CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var backup = database.BackupAsync(folder, hashRows: false, cancel.Token);
        var partial = await WaitForBlockedDumpAsync(connectionString, folder, () => backup.IsCompleted ? $"the backup ended: {backup.Exception?.Message}" : null);
        Assert.That(Path.GetFileName(partial), Does.Match(@"^test_\d+-\d{8}T\d{6}Z-[0-9a-f]{6}\.dump\.partial$"));
        Assert.That(File.GetUnixFileMode(partial), Is.EqualTo(OwnerOnly));
        var pgDump = PgDumpProcesses(Environment.ProcessId, databaseName).Single();
        await cancel.CancelAsync();

        Assert.That(async () => await backup, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(IsRunning(pgDump), Is.False, "pg_dump was ended with the backup");
        Assert.That(Directory.GetFiles(folder), Is.Empty, "the partial file was deleted");
        await locker.ReleaseAsync();
        Assert.That(await EventuallyAsync(async () => await DumpSessionsAsync(connectionString, waitingOnLock: false) == 0));
    }

    [Test]
    public async Task Tables_and_schemas_named_with_newlines_quotes_dollars_semicolons_and_emoji_are_backed_up_restored_and_proven_like_any_other()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        // 63 bytes, the longest name PostgreSQL keeps, ending in a 4-byte character.
        var longest = new string('n', 63 - Encoding.UTF8.GetByteCount("📦")) + "📦";
        string[] schemas = ["line\nbreak", "quote\"s 'and' $$ dollars; semi", "Zürich 📦"];
        string[] tables = ["t\nnewline", "\"dq\"", "'sq'", "$$", "a;b", "with  spaces", "$migrationtasks_proof$", longest];
        var create = new StringBuilder();
        foreach (var schema in schemas)
        {
            create.AppendLine($"CREATE SCHEMA {Quote(schema)};");
            foreach (var table in tables)
            {
                create.AppendLine($"CREATE TABLE {Quote(schema)}.{Quote(table)} (id int PRIMARY KEY, {Quote("col\numn")} text);");
                create.AppendLine($"INSERT INTO {Quote(schema)}.{Quote(table)} VALUES (1, 'one'), (2, E'two\\nlines'), (3, '$$;''');");
            }
        }

        await PostgresServer.QueryAsync(connectionString, create + "SELECT 1");
        await using var database = await new PostgresEngine().ConnectAsync(connectionString, CancellationToken.None);
        var atBackup = await StateAsync(connectionString);

        var backup = await database.BackupAsync(NewFolder(), hashRows: true, CancellationToken.None);

        Assert.That(backup.Tables, Has.Count.EqualTo(24));
        Assert.That(backup.Proof, Does.Contain("with the data of each of the 24 tables"));
        var change = new StringBuilder();
        foreach (var schema in schemas)
        {
            foreach (var table in tables)
            {
                change.AppendLine($"UPDATE {Quote(schema)}.{Quote(table)} SET {Quote("col\numn")} = 'changed' WHERE id = 1; DELETE FROM {Quote(schema)}.{Quote(table)} WHERE id = 2;");
            }
        }

        change.AppendLine($"DROP TABLE {Quote(schemas[0])}.{Quote(tables[0])}; CREATE TABLE {Quote(schemas[2])}.{Quote("new\ntable")} (a int);");
        await PostgresServer.QueryAsync(connectionString, change + "SELECT 1");
        Assert.That(await StateAsync(connectionString), Is.Not.EqualTo(atBackup));

        await database.RestoreAsync(backup, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None);

        Assert.That(await StateAsync(connectionString), Is.EqualTo(atBackup));
        Assert.That(
            await PostgresServer.QueryAsync(connectionString, $"SELECT octet_length(relname::text) FROM pg_class WHERE relname = {SqlLiteral.Of(longest)} LIMIT 1"),
            Has.One.Items.EqualTo(new[] { "63" }));
    }

    [Test]
    public async Task A_backup_whose_metadata_records_other_rows_than_its_dump_is_rolled_back_before_commit_naming_the_tables_and_both_counts()
    {
        var shop = await ShopAsync();
        var folder = NewFolder();
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(folder, hashRows: true, CancellationToken.None);
        var metadataPath = Path.Combine(folder, backup.Id + ".json");
        var metadata = JsonNode.Parse(File.ReadAllText(metadataPath))!;
        foreach (var table in metadata["tables"]!.AsArray())
        {
            if ((string?)table!["table"] == "public.customer")
            {
                table["rows"] = 3;
            }

            if ((string?)table["table"] == "billing.invoice")
            {
                table["contentHash"] = "sum-hashtextextended:42";
            }
        }

        File.WriteAllText(metadataPath, metadata.ToJsonString());
        await shop.QueryAsync("UPDATE customer SET name = 'Robert' WHERE id = 2; CREATE TABLE after_backup (a int); INSERT INTO after_backup VALUES (1); SELECT 1");
        var before = await StateAsync(shop.ConnectionString);

        var forged = DatabaseBackup.Load(folder, backup.Id);
        var error = Assert.ThrowsAsync<DiagnosticException>(() => database.RestoreAsync(forged, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.RestoreFailed));
        Assert.That(error.Diagnostics.Single().Message, Does.Contain("failed and was rolled back: the database is exactly as it was before the restore")
            .And.Contain($"the dump of backup {backup.Id} does not hold the rows its metadata records (2 difference(s)): ")
            .And.Contain("table billing.invoice has its 1 rows but different contents (hash sum-hashtextextended:")
            .And.Contain(", the backup had sum-hashtextextended:42)")
            .And.Contain("table public.customer has 2 rows, the backup had 3"));
        Assert.That(await StateAsync(shop.ConnectionString), Is.EqualTo(before));
    }

    [Test]
    public async Task Server_side_idle_and_statement_timeouts_end_neither_the_backup_nor_the_restore()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await PostgresServer.QueryAsync(connectionString, "CREATE TABLE kept (id int PRIMARY KEY, note text); INSERT INTO kept VALUES (1, 'a'), (2, 'b'); SELECT 1");
        await using var locker = await HoldSequenceAsync(connectionString);
        await PostgresServer.QueryAsync(
            connectionString,
            $"ALTER DATABASE {Quote(name)} SET idle_in_transaction_session_timeout = '300ms'; ALTER DATABASE {Quote(name)} SET idle_session_timeout = '1s'; " +
            $"ALTER DATABASE {Quote(name)} SET statement_timeout = '1s'; SELECT 1");
        var folder = NewFolder();
        await using var database = await new PostgresEngine().ConnectAsync(connectionString, CancellationToken.None);

        // pg_dump waits 2 s for the sequence, while the backup's snapshot session, done with its reads, sits idle in its transaction.
        var backupTask = database.BackupAsync(folder, hashRows: true, CancellationToken.None);
        await WaitForBlockedDumpAsync(connectionString, folder, () => backupTask.IsCompleted ? $"the backup ended: {backupTask.Exception?.Message}" : null);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await locker.ReleaseAsync();
        var backup = await backupTask;
        Assert.That(backup.Duration, Is.GreaterThan(TimeSpan.FromSeconds(2)));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.That((await database.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(backup.SchemaHash), "the deploy's session is still open, after idling in and out of a transaction");

        await PostgresServer.QueryAsync(connectionString, "UPDATE kept SET note = 'changed'; INSERT INTO kept VALUES (3, 'c'); SELECT 1");
        // The guard sleeps past statement_timeout in psql's session, and the runner's own session waits idle past idle_session_timeout.
        var settings = PostgresConnections.Parse(connectionString);
        await using (var connection = new NpgsqlConnection(settings.ConnectionString))
        {
            await connection.OpenAsync();
            await PostgresBackups.RestoreAsync(connection, settings, name, backup, CancellationToken.None, new RestoreHooks("SELECT pg_catalog.pg_sleep(1.5);", ""));
        }

        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT id, note FROM public.kept ORDER BY id"), Is.EqualTo(new[] { new[] { "1", "a" }, new[] { "2", "b" } }));
    }

    [Test]
    public async Task A_guard_before_the_drop_that_raises_refuses_the_restore_with_its_message_and_leaves_the_database_untouched()
    {
        var shop = await ShopAsync();
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(NewFolder(), hashRows: false, CancellationToken.None);
        await shop.QueryAsync("UPDATE customer SET name = 'Robert' WHERE id = 2; CREATE TABLE after_backup (a int); SELECT 1");
        var before = await StateAsync(shop.ConnectionString);
        var guard = new RestoreHooks("DO $$ BEGIN RAISE EXCEPTION 'guard: deploy % is not the newest; 100%% sure', 42; END $$;", "");

        var error = Assert.ThrowsAsync<DiagnosticException>(() => RestoreWithHooksAsync(shop.ConnectionString, backup, guard))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.RestoreFailed));
        Assert.That(error.Diagnostics.Single().Message, Does.Contain("ERROR:  guard: deploy 42 is not the newest; 100% sure").And.Contain("rolled back"));
        Assert.That(await StateAsync(shop.ConnectionString), Is.EqualTo(before));
    }

    [Test]
    public async Task The_statement_before_commit_runs_in_the_restores_transaction_and_is_undone_with_it()
    {
        var shop = await ShopAsync();
        await shop.QueryAsync(
            """
            CREATE TABLE restore_log (note text);
            CREATE TABLE parent_row (id int PRIMARY KEY);
            CREATE TABLE child_row (parent_id int REFERENCES parent_row DEFERRABLE INITIALLY DEFERRED);
            SELECT 1
            """);
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(NewFolder(), hashRows: true, CancellationToken.None);
        await shop.QueryAsync("UPDATE customer SET name = 'Robert' WHERE id = 2; SELECT 1");

        await RestoreWithHooksAsync(shop.ConnectionString, backup, new RestoreHooks("", "INSERT INTO public.restore_log VALUES ('restored');"));

        Assert.That(await shop.ScalarAsync("SELECT string_agg(note, ',') FROM restore_log"), Is.EqualTo("restored"), "recorded by the restore's transaction, after its rows were proven");
        Assert.That(await shop.ScalarAsync("SELECT name FROM customer WHERE id = 2"), Is.EqualTo("Bob"));
        await shop.QueryAsync("UPDATE customer SET name = 'Robert' WHERE id = 2; SELECT 1");
        var before = await StateAsync(shop.ConnectionString);

        // The row is written, then COMMIT's deferred foreign key check fails: the row goes with the whole restore.
        var failing = new RestoreHooks("", "INSERT INTO public.restore_log VALUES ('restored again'); INSERT INTO public.child_row VALUES (999);");
        var error = Assert.ThrowsAsync<DiagnosticException>(() => RestoreWithHooksAsync(shop.ConnectionString, backup, failing))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.RestoreFailed));
        Assert.That(error.Diagnostics.Single().Message, Does.Contain("violates foreign key constraint"));
        Assert.That(await StateAsync(shop.ConnectionString), Is.EqualTo(before));
    }

    private static async Task RestoreWithHooksAsync(string connectionString, DatabaseBackup backup, RestoreHooks hooks)
    {
        var settings = PostgresConnections.Parse(connectionString);
        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        await connection.OpenAsync();
        await PostgresBackups.RestoreAsync(connection, settings, PostgresConnections.Describe(settings), backup, CancellationToken.None, hooks);
    }

    /// <summary>
    /// A sequence that another session holds ACCESS EXCLUSIVE (renamed in a transaction it has not ended): pg_dump
    /// waits to read it, while the backup's own reads (the catalogs, the tables' rows) go on and end, so that its
    /// snapshot session then sits idle in its transaction. Rolling back releases it and undoes the rename.
    /// </summary>
    private static async Task<HeldLock> HoldSequenceAsync(string connectionString)
    {
        await PostgresServer.QueryAsync(connectionString, "CREATE SEQUENCE held_sequence; SELECT 1");
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await new NpgsqlCommand("SET idle_in_transaction_session_timeout = 0", connection).ExecuteNonQueryAsync();
        var transaction = await connection.BeginTransactionAsync();
        await new NpgsqlCommand("ALTER SEQUENCE held_sequence RENAME TO held_sequence_renamed", connection, transaction).ExecuteNonQueryAsync();
        return new HeldLock(connection, transaction);
    }

    /// <summary>Waits until pg_dump waits for the lock and the backup's partial file exists; returns the file.</summary>
    private static async Task<string> WaitForBlockedDumpAsync(string connectionString, string folder, Func<string?> stopped)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (stopped() is { } why)
            {
                Assert.Fail(why);
            }

            var files = Directory.GetFiles(folder);
            if (files.Length == 1 && await DumpSessionsAsync(connectionString, waitingOnLock: true) == 1)
            {
                return files[0];
            }

            await Task.Delay(100);
        }

        Assert.Fail("pg_dump did not start waiting for the lock within 60 s");
        return "";
    }

    private static async Task<int> DumpSessionsAsync(string connectionString, bool waitingOnLock) =>
        int.Parse((await PostgresServer.QueryAsync(
            connectionString,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'MigrationTasks pg_dump'" +
            (waitingOnLock ? " AND wait_event_type = 'Lock'" : ""))).Single()[0]!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The pg_dump processes a process started for this database (PGDATABASE in their environment tells them apart from other tests').</summary>
    private static List<int> PgDumpProcesses(int parent, string database)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var command = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                if (command == "pg_dump" && int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent
                    && File.ReadAllText(Path.Combine(directory, "environ")).Split('\0').Contains($"PGDATABASE={database}"))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // It ended while being read.
            }
        }

        return found;
    }

    /// <summary>Whether the process exists and is not a zombie waiting for whoever adopted it to collect it.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static Task<bool> EventuallyAsync(Func<bool> condition) => EventuallyAsync(() => Task.FromResult(condition()));

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    /// <summary>A lock held by an open transaction of a session of its own, released by rolling back or disposing.</summary>
    private sealed class HeldLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task ReleaseAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
