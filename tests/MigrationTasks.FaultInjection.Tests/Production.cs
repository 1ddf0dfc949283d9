using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Tests;
using MigrationTasks.Release;
using Npgsql;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// A production database as the runner meets it: owned by a login that is not a superuser (<c>deployer</c>), holding
/// 500 customers and their orders, with its migration history (V1) written by an earlier deploy. Each test gets its
/// own copy (CREATE DATABASE … TEMPLATE), and a superuser session of its own for what the test does to it.
/// </summary>
internal sealed class Production
{
    public const string Deployer = "deployer";

    /// <summary>What production runs today: written by the deployer, through the same runner code as a real deploy.</summary>
    public const string V1 = """
        CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text, created timestamptz NOT NULL DEFAULT '2026-01-01');
        CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, total numeric(10,2) NOT NULL);
        INSERT INTO customer (id, name, email) SELECT i, 'customer ' || i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'c' || i || '@example.com' END FROM generate_series(1, 500) i;
        INSERT INTO orders SELECT i, 1 + (i * 37) % 500, (i % 90) + 0.5 FROM generate_series(1, 1500) i;
        """;

    private static readonly Lazy<Task<Template>> SharedTemplate = new(CreateTemplateAsync);
    private static int _count;

    private Production(string name, string admin, string deployer, string baseline)
    {
        Name = name;
        AdminConnectionString = admin;
        ConnectionString = deployer;
        BaselinePath = baseline;
    }

    public string Name { get; }

    /// <summary>The superuser: what the test (the application, a DBA, a reaper) does to production.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The runner's login: owner of the database, not a superuser.</summary>
    public string ConnectionString { get; }

    /// <summary>The exported baseline of production as it is before any test touches it (V1 applied).</summary>
    public string BaselinePath { get; }

    public static async Task<Production> CreateAsync()
    {
        var template = await SharedTemplate.Value;
        var name = $"prod_{Interlocked.Increment(ref _count)}_{Environment.ProcessId}";
        await ExecuteAsync(template.Server, $"CREATE DATABASE {name} TEMPLATE {template.Name} OWNER {Deployer}");
        return new Production(
            name,
            With(template.Server, name, "postgres"),
            With(template.Server, name, Deployer),
            template.Baseline);
    }

    public Task<List<string?[]>> QueryAsync(string sql) => PostgresServer.QueryAsync(AdminConnectionString, sql);

    public async Task<string> ScalarAsync(string sql) => (await QueryAsync(sql))[0][0] ?? "";

    public Task ExecuteAsync(string sql) => ExecuteAsync(AdminConnectionString, sql);

    /// <summary>Opens a session of its own (e.g. the application holding a lock); the caller disposes it.</summary>
    public async Task<NpgsqlConnection> OpenSessionAsync(string? applicationName = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { ApplicationName = applicationName ?? "application" };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        // The test's own sessions (the gate, the application) must outlive the idle timeouts a test sets on production.
        await using var keep = new NpgsqlCommand("SET idle_session_timeout = 0; SET idle_in_transaction_session_timeout = 0", connection);
        await keep.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>Waits until a query returns a non-zero count (e.g. the runner's session is in a given statement).</summary>
    /// <param name="runner">The runner that should get there: its exit ends the wait with its output.</param>
    public async Task WaitUntilAsync(string countQuery, string what, RunnerProcess? runner = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (await ScalarAsync(countQuery) is "0" or "")
        {
            if (runner is { HasExited: true })
            {
                Assert.Fail($"the runner exited before {what}:\n{runner.Output}");
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}{(runner is null ? "" : ":\n" + runner.Output)}");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>Waits until a session of the runner runs a statement whose text contains <paramref name="fragment"/>.</summary>
    public Task WaitForRunnerQueryAsync(string fragment, RunnerProcess? runner = null) =>
        WaitUntilAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{Name}' AND state = 'active' AND query LIKE '%{fragment.Replace("'", "''")}%' AND pid <> pg_backend_pid()",
            $"the runner to run '{fragment}'",
            runner);

    /// <summary>
    /// Everything a deploy may change, as one comparable value: the schema (canonical snapshot hash), every table's
    /// rows, and the migration history (scripts, checksums, outcomes).
    /// </summary>
    public async Task<DatabaseState> StateAsync()
    {
        var engine = new PostgresEngine();
        await using var database = await engine.ConnectAsync(AdminConnectionString, CancellationToken.None);
        var schema = (await database.ReadSchemaAsync(CancellationToken.None)).Hash;
        var tables = await QueryAsync("""
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'migrationtasks') AND n.nspname !~ '^pg_toast'
            ORDER BY 1
            """);
        var rows = new List<string>();
        foreach (var table in tables.Select(t => t[0]!))
        {
            rows.Add($"{table}: {await ScalarAsync($"SELECT count(*) || ' rows, md5 ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM {table} t")}");
        }

        var history = await QueryAsync("""
            SELECT CASE WHEN to_regclass('migrationtasks.history') IS NULL THEN '' ELSE
                (SELECT coalesce(string_agg(script || ' ' || left(checksum_sha256, 12) || ' ' || outcome || ' ' || statements_applied, '; ' ORDER BY id), '') FROM migrationtasks.history)
            END
            """);
        return new DatabaseState(schema, string.Join("\n", rows), history[0][0] ?? "");
    }

    public async Task<IReadOnlyList<string>> DeployStatesAsync() =>
        [.. (await QueryAsync("SELECT CASE WHEN to_regclass('migrationtasks.deploys') IS NULL THEN NULL ELSE 1 END")).Single()[0] is null
            ? []
            : (await QueryAsync("SELECT state FROM migrationtasks.deploys ORDER BY started_at, id")).Select(r => r[0]!)];

    private static async Task<Template> CreateTemplateAsync()
    {
        // Any database of the shared throwaway cluster gives the server; the template is made beside it.
        var server = await PostgresServer.CreateDatabaseAsync();
        await ExecuteAsync(server, $"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{Deployer}') THEN CREATE ROLE {Deployer} LOGIN; END IF; END $$");
        var name = $"shop_template_{Environment.ProcessId}";
        await ExecuteAsync(server, $"CREATE DATABASE {name} OWNER {Deployer}");
        var deployer = With(server, name, Deployer);
        var folder = Directory.CreateDirectory(ScratchFolder.PathFor(name)).FullName;
        var v1 = Path.Combine(folder, "V1__shop.sql");
        File.WriteAllText(v1, V1);
        var engine = new PostgresEngine();
        await using (var database = await engine.ConnectAsync(deployer, CancellationToken.None))
        {
            await new MigrationRunner(new Diagnostics.Reporter(TextWriter.Null))
                .DeployAsync(database, MigrationSource.Prepare(engine, [v1]), new ApplyContext("earlier-deploy", "shop", "1.0.0"), TimeSpan.FromSeconds(30), CancellationToken.None);
            var baseline = Path.Combine(folder, "baseline.json");
            (await MigrationBaseline.ExportAsync(engine.Name, database, CancellationToken.None)).Save(baseline);
            NpgsqlConnection.ClearAllPools();
            return new Template(server, name, baseline);
        }
    }

    private static string With(string connectionString, string database, string user) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database, Username = user, Pooling = false }.ConnectionString;

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed record Template(string Server, string Name, string Baseline);

    /// <summary>What report.json says: the exit (as its name), the outcome, and the whole text for messages.</summary>
    public sealed record Report(string Exit, string Outcome, string Json);
}

/// <summary>Production's schema, rows and history at one moment: equal states mean nothing of a deploy is left, or all of it.</summary>
internal sealed record DatabaseState(string SchemaHash, string Rows, string History)
{
    public override string ToString() => $"schema {SchemaHash[..12]}\n{Rows}\nhistory: {History}";
}
