using System.Text.Json;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Engine;
using Npgsql;

namespace MigrationTasks.PostgreSql.Tests.Engine;

/// <summary>Backups, restores and copies of real databases with the real pg_dump, pg_restore and psql.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed partial class BackupRestoreTests
{
    /// <summary>Every table the shop database has, with the query that lists its rows in a stable order.</summary>
    private static readonly string[] ShopRows =
    [
        "SELECT * FROM public.customer ORDER BY id",
        "SELECT * FROM public.shop_order ORDER BY id",
        "SELECT * FROM billing.invoice ORDER BY id",
        "SELECT id, version, script, checksum_sha256, outcome FROM migrationtasks.history ORDER BY id",
    ];

    /// <summary>The backup folders the tests made, deleted after them.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<string> Folders = [];

    [Test]
    public async Task Without_row_hashes_a_backup_counts_rows_and_a_restore_is_proven_by_schema_and_counts()
    {
        var shop = await ShopAsync();
        var folder = NewFolder();
        await using var database = await ConnectAsync(shop);

        var backup = await database.BackupAsync(folder, hashRows: false, CancellationToken.None);

        Assert.That(backup.Proof, Does.EndWith("7 rows of 4 tables counted in the dump's snapshot"));
        Assert.That(backup.Tables.Select(t => t.ContentHash), Has.All.Empty);
        await PostgresServer.QueryAsync(shop.ConnectionString, "UPDATE public.customer SET name = name || '!'; CREATE TABLE public.extra (a int); SELECT 1");
        await database.RestoreAsync(backup, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None);

        Assert.That((await database.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(backup.SchemaHash));
        Assert.That(await PostgresServer.QueryAsync(shop.ConnectionString, "SELECT count(*) FROM public.customer WHERE name LIKE '%!'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task A_backup_writes_its_dump_and_metadata_and_proves_the_dump_readable()
    {
        var shop = await ShopAsync();
        var folder = NewFolder();
        await using var database = await ConnectAsync(shop);

        var backup = await database.BackupAsync(folder, hashRows: true, CancellationToken.None);

        Assert.That(backup.Id, Does.Match(@"^test_\d+-\d{8}T\d{6}Z-[0-9a-f]{6}$"));
        Assert.That(backup.DumpPath, Is.EqualTo(Path.Combine(folder, backup.Id + ".dump")));
        Assert.That(new FileInfo(backup.DumpPath).Length, Is.EqualTo(backup.Bytes).And.GreaterThan(0));
        Assert.That(File.Exists(Path.Combine(folder, backup.Id + ".json")));
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { backup.Id + ".dump", backup.Id + ".json" }), "no partial file is left");
        if (!OperatingSystem.IsWindows())
        {
            Assert.That(File.GetUnixFileMode(backup.DumpPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        }
        Assert.That(backup.SchemaHash, Is.EqualTo((await database.ReadSchemaAsync(CancellationToken.None)).Hash));
        Assert.That(backup.Proof, Does.Match(@"^pg_restore --list read \d+ entries, with the data of each of the 4 tables; 7 rows of 4 tables counted and hashed"));
        Assert.That(backup.Database, Does.Not.Contain("Password").And.EndWith(shop.Database));
        Assert.That(backup.Format, Does.StartWith("pg_dump custom format (pg_dump 15."));
        Assert.That(backup.Tables.Select(t => (t.Table, t.Rows)), Is.EqualTo(new[]
        {
            ("billing.invoice", 1L), ("migrationtasks.history", 2L), ("public.customer", 2L), ("public.shop_order", 2L),
        }));

        var loaded = DatabaseBackup.Load(folder, backup.Id);
        Assert.That(
            (loaded.Id, loaded.DumpPath, loaded.Bytes, loaded.Database, loaded.SchemaHash, loaded.TakenAt, loaded.Proof, loaded.Format),
            Is.EqualTo((backup.Id, backup.DumpPath, backup.Bytes, backup.Database, backup.SchemaHash, backup.TakenAt, backup.Proof, backup.Format)));
        Assert.That(loaded.Duration.TotalMilliseconds, Is.EqualTo(backup.Duration.TotalMilliseconds).Within(1));
        Assert.That(loaded.Tables, Is.EqualTo(backup.Tables));
        Assert.That(loaded.Schema!.Hash, Is.EqualTo(backup.SchemaHash));
        Assert.That(loaded.DumpSha256, Is.EqualTo(backup.DumpSha256).And.Length.EqualTo(64));
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, backup.Id + ".json")));
        Assert.That(metadata.RootElement.GetProperty("dumpFile").GetString(), Is.EqualTo(backup.Id + ".dump"), "the folder can move: the dump is named relative to it");
        Assert.That(metadata.RootElement.GetProperty("engine").GetString(), Is.EqualTo("PostgreSql"), "`migrate restore` takes the engine from here");
        Assert.That((backup.Engine, loaded.Engine), Is.EqualTo(("PostgreSql", "PostgreSql")));
        Assert.That(backup.RestoreCommand(), Is.EqualTo($"dotnet migrate.dll restore --engine PostgreSql --connection-variable VAR --backup-dir {folder} --backup {backup.Id}"));
    }

    [Test]
    public async Task A_login_that_needs_its_password_backs_up_the_password_reaching_pg_dump_through_its_environment_only()
    {
        var shop = await ShopAsync();
        var role = $"backup_reader_{Guid.NewGuid():N}"[..26];
        const string password = "s3cret;with 'quotes' and spaces";
        await shop.QueryAsync($"CREATE ROLE {role} LOGIN PASSWORD '{password.Replace("'", "''")}' IN ROLE pg_read_all_data; SELECT 1");
        await RequirePasswordAsync(shop.ConnectionString, role);
        var asReader = new NpgsqlConnectionStringBuilder(shop.ConnectionString) { Username = role, Password = password }.ConnectionString;
        var folder = NewFolder();

        await using var database = await new PostgresEngine().ConnectAsync(asReader, CancellationToken.None);
        var backup = await database.BackupAsync(folder, hashRows: true, CancellationToken.None);

        Assert.That(backup.Tables.Sum(t => t.Rows), Is.EqualTo(7));
        Assert.That(File.ReadAllText(Path.Combine(folder, backup.Id + ".json")), Does.Not.Contain("s3cret"));
        var wrong = new NpgsqlConnectionStringBuilder(asReader) { Password = "wrong" }.ConnectionString;
        var refused = Assert.ThrowsAsync<DiagnosticException>(() => new PostgresEngine().ConnectAsync(wrong, CancellationToken.None))!;
        Assert.That(refused.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.CannotConnect), "the server does check this login's password");
    }

    [Test]
    public async Task A_backup_folder_that_cannot_be_written_is_MIG6001_before_the_database_is_touched()
    {
        var shop = await ShopAsync();
        // Root ignores permissions, but not a regular file standing where a folder must be.
        var file = Path.Combine(NewFolder(), "file.txt");
        File.WriteAllText(file, "not a folder");
        var folder = Path.Combine(file, "sub");
        var database = await ConnectAsync(shop);
        // Closed: any query, let alone a dump, would fail with something else than MIG6001.
        await database.DisposeAsync();

        var error = Assert.ThrowsAsync<DiagnosticException>(() => database.BackupAsync(folder, hashRows: true, CancellationToken.None))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.BackupDirectoryNotWritable));
        Assert.That(error.Diagnostics.Single().Message, Does.StartWith($"cannot write backups to {folder}:").And.Contain("Nothing was dumped"));
        Assert.That(Directory.GetFileSystemEntries(Path.GetDirectoryName(file)!), Is.EqualTo(new[] { file }));
    }

    [Test]
    public async Task A_restore_undoes_schema_and_data_changes_exactly_and_spares_the_deploy_lock()
    {
        var shop = await ShopAsync();
        var folder = NewFolder();
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(folder, hashRows: true, CancellationToken.None);
        var rowsAtBackup = await RowsAsync(shop.ConnectionString, ShopRows);

        shop.Write("V3__changes.sql", "CREATE TABLE audit (a int); ALTER TABLE customer ADD COLUMN phone text;");
        Assert.That(await shop.DeployAsync(), Is.Empty, shop.Output);
        await shop.QueryAsync(
            """
            ALTER TYPE order_status ADD VALUE 'refunded';
            INSERT INTO customer (email, name) VALUES ('cy@example.com', 'Cy');
            UPDATE customer SET name = 'Annie' WHERE id = 1;
            DELETE FROM shop_order WHERE id = 2;
            DROP TABLE billing.invoice;
            CREATE SCHEMA reporting; CREATE TABLE reporting.daily (d date);
            SELECT 1
            """);
        await using var deployLock = await database.AcquireDeployLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        await using var bystander = new NpgsqlConnection(shop.ConnectionString);
        await bystander.OpenAsync();
        await using var bystanderTransaction = await bystander.BeginTransactionAsync();
        await new NpgsqlCommand("SELECT count(*) FROM customer", bystander, bystanderTransaction).ExecuteScalarAsync();

        await using (var restorer = await ConnectAsync(shop))
        {
            await restorer.RestoreAsync(DatabaseBackup.Load(folder, backup.Id), new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None);
            Assert.That((await restorer.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(backup.SchemaHash));
        }

        Assert.That(await RowsAsync(shop.ConnectionString, ShopRows), Is.EqualTo(rowsAtBackup));
        Assert.That(await shop.ScalarAsync("SELECT to_regclass('public.audit') IS NULL AND to_regnamespace('reporting') IS NULL"), Is.EqualTo("t"));
        Assert.That(await shop.ScalarAsync("SELECT string_agg(e, ',' ORDER BY e) FROM unnest(enum_range(NULL::order_status)::text[]) e"), Is.EqualTo("new,paid"));
        Assert.That(await shop.ScalarAsync("INSERT INTO customer (email, name) VALUES ('dee@example.com', 'Dee') RETURNING id"), Is.EqualTo("3"), "the identity continues where it was");
        Assert.That(IsDead(bystander), "the bystander's session was ended");
        Assert.That(
            await shop.ScalarAsync("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            Is.EqualTo("1"),
            "the deploy lock's session was spared: it still holds the lock");
    }

    [Test]
    public async Task A_restore_that_fails_midway_on_a_missing_owner_leaves_the_database_as_it_was()
    {
        var shop = await ShopAsync();
        var role = $"backup_owner_{Guid.NewGuid():N}"[..24];
        await shop.QueryAsync($"CREATE ROLE {role}; CREATE TABLE owned (a int); INSERT INTO owned VALUES (1); ALTER TABLE owned OWNER TO {role}; SELECT 1");
        var folder = NewFolder();
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(folder, hashRows: true, CancellationToken.None);
        await shop.QueryAsync($"ALTER TABLE owned OWNER TO postgres; DROP ROLE {role}; CREATE TABLE after_backup (a int); UPDATE customer SET name = 'Robert' WHERE id = 2; SELECT 1");
        var before = await StateAsync(shop.ConnectionString);

        var error = Assert.ThrowsAsync<DiagnosticException>(() => database.RestoreAsync(backup, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.RestoreFailed));
        Assert.That(error.Diagnostics.Single().Message, Does.Contain("rolled back: the database is exactly as it was").And.Contain($"role \"{role}\" does not exist"));
        Assert.That(await StateAsync(shop.ConnectionString), Is.EqualTo(before));
    }

    [Test]
    public async Task A_truncated_dump_is_refused_by_its_checksum_and_fails_midway_without_it_leaving_the_database_as_it_was()
    {
        var shop = await ShopAsync();
        // Enough incompressible rows that the dump's data runs well past the point where it is cut.
        await shop.QueryAsync("CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload FROM generate_series(1, 20000) g; SELECT 1");
        var folder = NewFolder();
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(folder, hashRows: true, CancellationToken.None);
        await shop.QueryAsync("CREATE TABLE after_backup (a int); UPDATE big SET payload = 'changed' WHERE id < 10; SELECT 1");
        var before = await StateAsync(shop.ConnectionString);
        await using (var dump = File.OpenWrite(backup.DumpPath))
        {
            dump.SetLength(backup.Bytes * 2 / 3);
        }

        var refused = Assert.ThrowsAsync<DiagnosticException>(() => database.RestoreAsync(backup, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None))!;
        Assert.That(refused.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.BackupUnavailable));
        Assert.That(refused.Diagnostics.Single().Message, Does.Contain("changed since it was taken"));

        // A dump that was bad when written: its checksum matches, and pg_restore dies part-way through the data.
        var damaged = backup with { Bytes = new FileInfo(backup.DumpPath).Length, DumpSha256 = await DatabaseBackup.HashFileAsync(backup.DumpPath, CancellationToken.None) };
        var error = Assert.ThrowsAsync<DiagnosticException>(() => database.RestoreAsync(damaged, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.RestoreFailed));
        Assert.That(error.Diagnostics.Single().Message, Does.Contain("pg_restore could not read the dump"));
        Assert.That(await StateAsync(shop.ConnectionString), Is.EqualTo(before));
    }

    [Test]
    public async Task A_restore_whose_schema_differs_from_what_the_backup_recorded_is_MIG6004_after_the_commit_naming_the_differences()
    {
        var shop = await ShopAsync();
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(NewFolder(), hashRows: true, CancellationToken.None);
        // Metadata that promises a table the dump lacks: only the schema snapshot (read in C#, after COMMIT) can tell.
        var promised = new MigrationTasks.Schema.SchemaSnapshot([.. backup.Schema!.Objects, new("table", "public.ghost", "")]);
        var overstated = backup with { Schema = promised, SchemaHash = promised.Hash };

        var error = Assert.ThrowsAsync<DiagnosticException>(() => database.RestoreAsync(overstated, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.RestoreNotVerified));
        Assert.That(error.Diagnostics.Single().Message, Does.Contain("(1 difference(s)): missing table public.ghost").And.Contain("The restore is committed"));
    }

    [Test]
    public async Task A_database_without_a_public_schema_is_restored_without_one()
    {
        var shop = await ShopAsync();
        await shop.QueryAsync("ALTER TABLE customer SET SCHEMA billing; ALTER TABLE shop_order SET SCHEMA billing; ALTER TYPE order_status SET SCHEMA billing; DROP SCHEMA public; SELECT 1");
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(NewFolder(), hashRows: true, CancellationToken.None);
        await shop.QueryAsync("CREATE SCHEMA public; CREATE TABLE public.added (a int); SELECT 1");

        await database.RestoreAsync(backup, new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None);

        Assert.That(await shop.ScalarAsync("SELECT to_regnamespace('public') IS NULL"), Is.EqualTo("t"));
        Assert.That((await database.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(backup.SchemaHash));
    }

    [Test]
    public async Task Loading_a_backup_that_is_not_there_is_MIG6007_naming_the_ones_that_are()
    {
        var shop = await ShopAsync();
        var folder = NewFolder();
        await using var database = await ConnectAsync(shop);
        var backup = await database.BackupAsync(folder, hashRows: true, CancellationToken.None);

        var missing = Assert.Throws<DiagnosticException>(() => DatabaseBackup.Load(folder, "shop-20200101T000000Z-000000"))!;
        var escaping = Assert.Throws<DiagnosticException>(() => DatabaseBackup.Load(folder, "../etc/passwd"))!;
        File.Delete(backup.DumpPath);
        var noDump = Assert.Throws<DiagnosticException>(() => DatabaseBackup.Load(folder, backup.Id))!;

        Assert.That(new[] { missing, escaping, noDump }.Select(e => e.Diagnostics.Single().Code), Has.All.EqualTo(DiagnosticCodes.BackupUnavailable));
        Assert.That(missing.Diagnostics.Single().Message, Does.Contain($"Backups in {folder}, newest first: {backup.Id}."));
        Assert.That(escaping.Diagnostics.Single().Message, Does.Contain("is not a backup id"));
        Assert.That(noDump.Diagnostics.Single().Message, Does.Contain($"{backup.DumpPath}, does not exist"));
    }

    [Test]
    public async Task A_copy_holds_the_same_schema_and_rows_and_is_dropped_on_dispose()
    {
        var shop = await ShopAsync();
        await using var database = await ConnectAsync(shop);

        var (copy, reason) = await database.TryCreateCopyAsync(CancellationToken.None);

        Assert.That(copy, Is.Not.Null, reason);
        var name = (await PostgresServer.QueryAsync(shop.ConnectionString, $"SELECT datname FROM pg_database WHERE datname LIKE '{shop.Database}\\_copy\\_%'")).Single()[0]!;
        var copyConnection = new NpgsqlConnectionStringBuilder(shop.ConnectionString) { Database = name }.ConnectionString;
        await using (copy)
        {
            Assert.That(copy!.DisplayName, Does.StartWith("copy database ").And.EndWith("/" + name));
            Assert.That((await copy.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo((await database.ReadSchemaAsync(CancellationToken.None)).Hash));
            Assert.That(await RowsAsync(copyConnection, ShopRows), Is.EqualTo(await RowsAsync(shop.ConnectionString, ShopRows)));
        }

        Assert.That(await shop.ScalarAsync($"SELECT count(*) FROM pg_database WHERE datname = '{name}'"), Is.EqualTo("0"));
    }

    /// <summary>A database at V2 through the normal deploy (so with history): two schemas, an enum, an identity, rows.</summary>
    private static async Task<ShopDatabase> ShopAsync()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__shop.sql",
            """
            CREATE TYPE order_status AS ENUM ('new', 'paid');
            CREATE TABLE customer (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL);
            CREATE TABLE shop_order (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer (id), status order_status NOT NULL, total numeric(10, 2), placed timestamptz);
            CREATE INDEX shop_order_customer ON shop_order (customer_id);
            """);
        workspace.Write("V2__billing.sql",
            """
            CREATE SCHEMA billing;
            CREATE TABLE billing.invoice (id int PRIMARY KEY, order_id int REFERENCES shop_order (id), body bytea, issued float8);
            CREATE VIEW billing.open_orders AS SELECT id FROM shop_order WHERE status = 'new';
            INSERT INTO customer (email, name) VALUES ('ann@example.com', 'Ann'), ('bob@example.com', 'Bob');
            INSERT INTO shop_order VALUES (1, 1, 'paid', 12.50, '2026-11-25 10:00+00'), (2, 2, 'new', NULL, NULL);
            INSERT INTO billing.invoice VALUES (1, 1, '\x00ff', 0.1);
            """);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        return new ShopDatabase(workspace);
    }

    private static Task<ITargetDatabase> ConnectAsync(ShopDatabase shop) =>
        new PostgresEngine().ConnectAsync(shop.ConnectionString, CancellationToken.None);

    [OneTimeTearDown]
    public void DeleteBackupFolders()
    {
        foreach (var folder in Folders)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string NewFolder()
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-backups-").FullName;
        Folders.Add(folder);
        return folder;
    }

    /// <summary>The schema hash and every row of every user table, as text: equal states are equal strings.</summary>
    private static async Task<string> StateAsync(string connectionString)
    {
        // A connection of its own: a restore ends every other session of the database.
        await using var database = await new PostgresEngine().ConnectAsync(connectionString, CancellationToken.None);
        var tables = await PostgresServer.QueryAsync(
            connectionString,
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
        var rows = await RowsAsync(connectionString, [.. tables.Select(t => $"SELECT * FROM {t[0]} ORDER BY 1")]);
        return $"{(await database.ReadSchemaAsync(CancellationToken.None)).Hash}\n{string.Join('\n', tables.Select(t => t[0]))}\n{rows}";
    }

    private static async Task<string> RowsAsync(string connectionString, IReadOnlyList<string> queries)
    {
        var text = new System.Text.StringBuilder();
        foreach (var query in queries)
        {
            text.AppendLine(query);
            foreach (var row in await PostgresServer.QueryAsync(connectionString, query))
            {
                text.AppendLine(string.Join(" | ", row.Select(v => v ?? "NULL")));
            }
        }

        return text.ToString();
    }

    /// <summary>Makes the shared test server ask this one role for its password (every other login stays trusted).</summary>
    private static async Task RequirePasswordAsync(string connectionString, string role)
    {
        var hbaFile = (await PostgresServer.QueryAsync(connectionString, "SHOW hba_file")).Single()[0]!;
        File.WriteAllText(hbaFile, $"host all {role} 127.0.0.1/32 scram-sha-256\n" + File.ReadAllText(hbaFile));
        await PostgresServer.QueryAsync(connectionString, "SELECT pg_reload_conf()");
        var withoutPassword = new NpgsqlConnectionStringBuilder(connectionString) { Username = role }.ConnectionString;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                await PostgresServer.QueryAsync(withoutPassword, "SELECT 1");
                await Task.Delay(100);
            }
            catch (NpgsqlException)
            {
                return;
            }
        }

        Assert.Fail($"the server kept trusting {role} after pg_hba.conf asked for its password");
    }

    private static bool IsDead(NpgsqlConnection connection)
    {
        try
        {
            using var probe = new NpgsqlCommand("SELECT 1", connection);
            probe.ExecuteScalar();
            return false;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>A migration workspace whose database name is known.</summary>
    private sealed class ShopDatabase(MigrationWorkspace workspace)
    {
        public string ConnectionString => workspace.ConnectionString;

        public string Database => new NpgsqlConnectionStringBuilder(workspace.ConnectionString).Database!;

        public string Output => workspace.Output;

        public string Write(string name, string sql) => workspace.Write(name, sql);

        public Task<IReadOnlyList<Diagnostic>> DeployAsync() => workspace.DeployAsync();

        public Task<List<string?[]>> QueryAsync(string sql) => workspace.QueryAsync(sql);

        public Task<string?> ScalarAsync(string sql) => workspace.ScalarAsync(sql);
    }
}
