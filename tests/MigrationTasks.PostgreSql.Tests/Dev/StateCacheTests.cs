using MigrationTasks.Dev;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Ephemeral;
using Npgsql;

namespace MigrationTasks.PostgreSql.Tests.Dev;

/// <summary>
/// The dev deploy's proof from cached states (issue 12) on a real throwaway PostgreSQL server in the project's state
/// folder, as `dotnet build` runs it: what is applied where, what the dev database and the cached states hold
/// afterwards, and that every failure leaves both as they were.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class StateCacheTests
{
    private static readonly PostgresEngine Engine = new();

    [OneTimeSetUp]
    public void Server() => PostgresServer.Require();

    [Test]
    public async Task Adding_a_migration_applies_it_once_to_the_cached_state_and_rehearses_only_the_newest()
    {
        using var project = Project.Create(20);
        Assert.That((await project.DeployAsync()).Problems, Is.Empty);

        project.Write("V21__refunds.sql", "CREATE TABLE refunds (id int PRIMARY KEY, amount numeric NOT NULL);");
        var (problems, output) = await project.DeployAsync();
        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("from the cached state after 19 migration(s): 1 applied to the cached state, 1 newest rehearsed on it"));

        project.Write("V22__refund_reason.sql", "ALTER TABLE refunds ADD reason text;");
        (problems, output) = await project.DeployAsync();
        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("from the cached state after 20 migration(s): 1 applied to the cached state, 1 newest rehearsed on it"));
        Assert.That(output, Does.Contain("/dev: applied 1 migration(s)"), "dev moves forward by what it lacks, nothing more");

        await using var server = await project.StartServerAsync();
        Assert.That(await server.HistoryAsync("dev"), Has.Count.EqualTo(22));
        Assert.That(await server.SchemaHashAsync("dev"), Is.EqualTo(await project.SchemaFromScratchAsync()));
        var states = await server.StatesAsync();
        Assert.That(states, Has.Count.LessThanOrEqualTo(3));
        Assert.That(await server.HistoryAsync(states.Last().Name), Has.Count.EqualTo(21), "the newest state holds every migration but the newest");
    }

    [Test]
    public async Task Editing_the_newest_migration_again_proves_it_on_the_same_state_and_resets_the_throwaway_dev_database()
    {
        using var project = Project.Create(5);
        Assert.That((await project.DeployAsync()).Problems, Is.Empty);
        await using (var server = await project.StartServerAsync())
        {
            await server.ExecuteAsync("dev", "INSERT INTO t5 (name) VALUES ('made by hand on dev')");
        }

        project.Write("V5__m5.sql", "CREATE TABLE t5 (id bigserial PRIMARY KEY, name text NOT NULL, added date);");
        var (problems, output) = await project.DeployAsync();

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("history is not a prefix of the project's (MIG7001 at V5__m5.sql); it is reset from the proven state"));
        Assert.That(output, Does.Contain("from the cached state after 4 migration(s): 0 applied to the cached state, 1 newest rehearsed on it"));
        await using var after = await project.StartServerAsync();
        Assert.That(await after.SchemaHashAsync("dev"), Is.EqualTo(await project.SchemaFromScratchAsync()));
        Assert.That((await after.HistoryAsync("dev")).Last().Checksum, Is.EqualTo(Sha(project.Path("V5__m5.sql"))));
    }

    [Test]
    public async Task A_shared_dev_database_with_an_edited_applied_migration_gets_MIG7001_before_any_shadow_work()
    {
        using var project = Project.Create(3);
        var shared = await PostgresServer.CreateDatabaseAsync();
        Assert.That((await project.DeployAsync(shared)).Problems, Is.Empty);
        var before = await PostgresServer.QueryAsync(shared, "SELECT script, checksum_sha256 FROM migrationtasks.history ORDER BY id");

        var edited = project.Write("V2__m2.sql", "CREATE TABLE t2 (id int);");
        var (problems, output) = await project.DeployAsync(shared);

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{edited}(1,1): error MIG7001: V2__m2.sql was applied on"));
        Assert.That(output, Does.Not.Contain("Shadow:").And.Not.Contain("applying"), "refused before the shadow ran");
        Assert.That(await PostgresServer.QueryAsync(shared, "SELECT script, checksum_sha256 FROM migrationtasks.history ORDER BY id"), Is.EqualTo(before));
    }

    [Test]
    public async Task Beside_a_shared_dev_database_the_cached_states_live_on_the_local_throwaway_server_only()
    {
        using var project = Project.Create(3);
        var shared = await PostgresServer.CreateDatabaseAsync();
        Assert.That((await project.DeployAsync(shared)).Problems, Is.Empty);
        project.Write("V4__m4.sql", "CREATE TABLE t4 (id int);");
        Assert.That((await project.DeployAsync(shared)).Problems, Is.Empty);

        project.Write("V5__m5.sql", "CREATE TABLE t5 (id int);");
        var (problems, output) = await project.DeployAsync(shared);

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("from the cached state after 3 migration(s): 1 applied to the cached state, 1 newest rehearsed"));
        Assert.That(await PostgresServer.QueryAsync(shared, "SELECT count(*) FROM pg_database WHERE datname LIKE 'mt\\_%'"),
            Is.EqualTo(new[] { new[] { "0" } }), "nothing of the cache on the shared server");
        Assert.That(await PostgresServer.QueryAsync(shared, "SELECT count(*) FROM migrationtasks.history"), Is.EqualTo(new[] { new[] { "5" } }));
        await using var server = await project.StartServerAsync();
        Assert.That(await server.DatabasesAsync(), Does.Not.Contain("dev"), "no throwaway dev database beside a shared one");
    }

    [Test]
    public async Task A_migration_relying_on_what_only_the_shared_server_has_is_proven_on_a_shadow_beside_dev()
    {
        // Roles are the server's, not the database's: the shared server has this one, the local throwaway one not.
        var role = "reporting_" + Guid.NewGuid().ToString("N")[..12];
        var shared = await PostgresServer.CreateDatabaseAsync();
        await PostgresServer.QueryAsync(shared, $"CREATE ROLE {role}; SELECT 1");
        using var project = Project.Create(2);
        Assert.That((await project.DeployAsync(shared)).Problems, Is.Empty);

        project.Write("V3__grant.sql", $"GRANT SELECT ON t1 TO {role};");
        var (problems, output) = await project.DeployAsync(shared);

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("The proof on the local throwaway server failed (MIG2004 at V3__grant.sql); it runs again on a shadow beside"));
        Assert.That(await PostgresServer.QueryAsync(shared, "SELECT count(*) FROM migrationtasks.history"), Is.EqualTo(new[] { new[] { "3" } }));
    }

    [Test]
    public async Task A_failing_newest_migration_fails_at_its_line_and_leaves_the_cached_state_and_dev_as_they_were()
    {
        using var project = Project.Create(4);
        Assert.That((await project.DeployAsync()).Problems, Is.Empty);
        await using (var server = await project.StartServerAsync())
        {
            project.Remember(await server.StatesAsync(), await server.SchemaHashAsync("dev"));
        }

        var broken = project.Write("V5__broken.sql", "CREATE TABLE fine (id int);\nINSERT INTO missing_table VALUES (1);");
        var (problems, output) = await project.DeployAsync();

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{broken}(2,13): error MIG2004: V5__broken.sql failed on shadow database"), output);
        Assert.That(problems[0].Message, Does.Contain("42P01"));
        await using var after = await project.StartServerAsync();
        // V4 is no longer the newest: the cached state moved forward by it, and only by it (V5 was rolled back).
        var state = (await after.StatesAsync()).Single();
        Assert.That(state.Steps, Is.EqualTo(4));
        Assert.That(project.RememberedStates.Single().Steps, Is.EqualTo(3));
        Assert.That(await after.ScalarAsync(state.Name, "SELECT to_regclass('fine') IS NULL"), Is.EqualTo("t"), "the rehearsal's table went with its transaction");
        Assert.That(await after.SchemaHashAsync("dev"), Is.EqualTo(project.RememberedDevSchema), "dev was not touched");
        Assert.That(await after.DatabasesAsync(), Does.Not.Contain("mt_shadow"));
    }

    [Test]
    public async Task An_edited_old_migration_invalidates_the_cache_and_the_chain_is_proven_from_an_empty_database()
    {
        using var project = Project.Create(6);
        Assert.That((await project.DeployAsync()).Problems, Is.Empty);

        project.Write("V2__m2.sql", "CREATE TABLE t2 (id bigserial PRIMARY KEY, name text NOT NULL, extra int);");
        var (problems, output) = await project.DeployAsync();

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("from an empty database (no cached state matches): 5 applied to the cached state"));
        await using var server = await project.StartServerAsync();
        Assert.That(await server.SchemaHashAsync("dev"), Is.EqualTo(await project.SchemaFromScratchAsync()));
    }

    [Test]
    public async Task An_edited_old_migration_is_proven_from_the_checkpoint_before_it()
    {
        using var project = Project.Create(10);
        await using (var server = await Engine.StartEphemeralServerAsync(System.IO.Path.Combine(project.StateDirectory, "devdb"), fresh: true, CancellationToken.None))
        {
            var output = new StringWriter();
            var cache = new StateCache(Engine, server, project.StateDirectory, new Reporter(output), checkpointEvery: 3);
            await cache.ProveAsync(project.Migrations(), fromScratch: false, CancellationToken.None);
            Assert.That(output.ToString(), Does.Contain("the state after 3 migration(s) is kept as a checkpoint").And.Contain("the state after 6 migration(s) is kept"));

            project.Write("V5__m5.sql", "CREATE TABLE t5 (id bigserial PRIMARY KEY, name text NOT NULL, edited boolean);");
            output.GetStringBuilder().Clear();
            await cache.ProveAsync(project.Migrations(), fromScratch: false, CancellationToken.None);

            Assert.That(output.ToString(), Does.Contain("from the cached state after 3 migration(s): 6 applied to the cached state, 1 newest rehearsed"));
        }

        await using var after = await project.StartServerAsync();
        Assert.That((await after.StatesAsync()).Select(s => s.Steps), Is.SupersetOf(new[] { 3, 6, 9 }), "the checkpoints of the new chain and its head");
    }

    [Test]
    public async Task Full_validation_trusts_no_cached_state()
    {
        using var project = Project.Create(4);
        Assert.That((await project.DeployAsync()).Problems, Is.Empty);

        var (problems, output) = await project.DeployAsync(fullValidation: true);

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("from an empty database (full validation): 3 applied to the cached state, 1 newest rehearsed"));
    }

    [Test]
    public async Task A_cached_state_changed_by_hand_is_dropped_and_the_chain_is_proven_from_an_empty_database()
    {
        using var project = Project.Create(4);
        Assert.That((await project.DeployAsync()).Problems, Is.Empty);
        await using (var server = await project.StartServerAsync())
        {
            var state = (await server.StatesAsync()).Single().Name;
            await server.ExecuteAsync(state, "DELETE FROM migrationtasks.history WHERE script = 'V2__m2.sql'");
        }

        project.Write("V5__m5b.sql", "CREATE TABLE t5b (id int);");
        var (problems, output) = await project.DeployAsync();

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("does not hold the migrations its name says").And.Contain("from an empty database (no cached state matches)"));
    }

    [Test]
    public async Task Newest_migrations_that_cannot_share_one_transaction_are_proven_for_real_on_a_copy()
    {
        using var project = Project.Create(2);
        project.Write("V3__mood.sql", "CREATE TYPE mood AS ENUM ('sad');");
        Assert.That((await project.DeployAsync()).Problems, Is.Empty);

        // PostgreSQL refuses a new enum value in the transaction that added it: one rolled-back transaction for both
        // would fail although each migration, in its own transaction, succeeds.
        project.Write("V4__happy.sql", "ALTER TYPE mood ADD VALUE 'happy';");
        project.Write("R__happy_view.sql", "CREATE OR REPLACE VIEW happy AS SELECT 'happy'::mood AS m;");
        var (problems, output) = await project.DeployAsync();
        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("proven on a copy of the cached state"));

        project.Write("V5__concurrently.sql", "CREATE INDEX CONCURRENTLY t1_name ON t1 (name);");
        (problems, output) = await project.DeployAsync();
        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("proven on a copy of the cached state"));
        await using var server = await project.StartServerAsync();
        Assert.That(await server.DatabasesAsync(), Does.Not.Contain("mt_shadow"), "the copy is dropped");
        Assert.That(await server.SchemaHashAsync("dev"), Is.EqualTo(await project.SchemaFromScratchAsync()));
    }

    [Test]
    public async Task A_migration_failing_in_the_cached_state_keeps_the_proven_prefix_for_the_next_build()
    {
        using var project = Project.Create(3);
        var broken = project.Write("V4__broken.sql", "SELECT 1/0;");
        project.Write("V5__after.sql", "CREATE TABLE after_broken (id int);");

        var (problems, output) = await project.DeployAsync();
        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{broken}(1,1): error MIG2004: V4__broken.sql failed on shadow database"), output);

        project.Write("V4__broken.sql", "SELECT 1;");
        (problems, output) = await project.DeployAsync();
        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("from the cached state after 3 migration(s): 1 applied to the cached state"), "V1 to V3 were kept");
    }

    private static string Sha(string path) => Common.Sha256.Hex(File.ReadAllBytes(path));

    /// <summary>A project folder with generated migrations and its obj/ state folder (mode 755: a server run as postgres enters it).</summary>
    private sealed class Project : IDisposable
    {
        private readonly string _root;

        private Project(string root) => _root = root;

        public string StateDirectory => System.IO.Path.Combine(_root, "obj");

        public IReadOnlyList<(string Name, int Steps)> RememberedStates { get; private set; } = [];

        public string? RememberedDevSchema { get; private set; }

        public static Project Create(int migrations)
        {
            var root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "migrationtasks-cache-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(System.IO.Path.Combine(root, "obj"));
            var project = new Project(root);
            for (var i = 1; i <= migrations; i++)
            {
                project.Write($"V{i}__m{i}.sql", $"CREATE TABLE t{i} (id bigserial PRIMARY KEY, name text NOT NULL);\nINSERT INTO t{i} (name) VALUES ('row {i}');");
            }

            return project;
        }

        public string Path(string name) => System.IO.Path.Combine(_root, name);

        public IReadOnlyList<(MigrationFile File, PreparedScript Script)> Migrations() => MigrationSource.Prepare(Engine, Directory.EnumerateFiles(_root, "*.sql"));

        public string Write(string name, string sql)
        {
            File.WriteAllText(Path(name), sql);
            return Path(name);
        }

        public void Remember(IReadOnlyList<(string Name, int Steps)> states, string devSchema) => (RememberedStates, RememberedDevSchema) = (states, devSchema);

        /// <summary>The dev deploy as the build runs it: throwaway dev database, or the given shared one.</summary>
        public async Task<(IReadOnlyList<Diagnostic> Problems, string Output)> DeployAsync(string? sharedDev = null, bool fullValidation = false)
        {
            var variable = "MIGRATIONTASKS_TEST_DEV_" + Guid.NewGuid().ToString("N");
            Environment.SetEnvironmentVariable(variable, sharedDev);
            var options = new DevLoopOptions(
                [.. Directory.EnumerateFiles(_root, "*.sql")], variable, DevDatabaseMode.Auto, StateDirectory, TimeSpan.FromSeconds(30), FullValidation: fullValidation);
            var output = new StringWriter();
            try
            {
                await new DevLoop(Engine, new Reporter(output)).DeployAsync(options, CancellationToken.None);
                return ([], output.ToString());
            }
            catch (DiagnosticException e)
            {
                return (e.Diagnostics, output.ToString());
            }
            finally
            {
                Environment.SetEnvironmentVariable(variable, null);
            }
        }

        public async Task<LocalServer> StartServerAsync() =>
            new(await EphemeralPostgresCluster.StartAsync(System.IO.Path.Combine(StateDirectory, "devdb")));

        /// <summary>The schema hash of every migration applied, in order, to a new empty database.</summary>
        public async Task<string> SchemaFromScratchAsync()
        {
            var scratch = await PostgresServer.CreateDatabaseAsync();
            await using var database = await Engine.ConnectAsync(scratch, CancellationToken.None);
            var migrations = MigrationSource.Prepare(Engine, Directory.EnumerateFiles(_root, "*.sql"));
            await new MigrationRunner(new Reporter(TextWriter.Null)).DeployAsync(database, migrations, ApplyContext.ForThisMachine(), TimeSpan.FromSeconds(30), CancellationToken.None);
            return (await database.ReadSchemaAsync(CancellationToken.None)).Hash;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
                // A server file still being written by a stopping server: the temp folder is cleaned later.
            }
        }
    }

    /// <summary>The project's throwaway server, started to look at what a build left; stopped on dispose.</summary>
    private sealed class LocalServer(EphemeralPostgresCluster cluster) : IAsyncDisposable
    {
        public async Task<List<string>> DatabasesAsync() =>
            [.. (await QueryAsync("postgres", "SELECT datname FROM pg_database ORDER BY datname")).Select(r => r[0]!)];

        /// <summary>The cached states with the number of migrations each holds, by name.</summary>
        public async Task<IReadOnlyList<(string Name, int Steps)>> StatesAsync()
        {
            var states = new List<(string, int)>();
            foreach (var name in (await DatabasesAsync()).Where(d => d.StartsWith("mt_state_", StringComparison.Ordinal)))
            {
                states.Add((name, (await HistoryAsync(name)).Count));
            }

            return [.. states.OrderBy(s => s.Item2)];
        }

        public async Task<IReadOnlyList<HistoryEntry>> HistoryAsync(string database)
        {
            await using var target = await Engine.ConnectAsync(cluster.ConnectionString(database), CancellationToken.None);
            return await target.ReadHistoryAsync(CancellationToken.None);
        }

        public async Task<string> SchemaHashAsync(string database)
        {
            await using var target = await Engine.ConnectAsync(cluster.ConnectionString(database), CancellationToken.None);
            return (await target.ReadSchemaAsync(CancellationToken.None)).Hash;
        }

        public async Task ExecuteAsync(string database, string sql)
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cluster.ConnectionString(database)) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        public async Task<string?> ScalarAsync(string database, string sql) => (await QueryAsync(database, sql))[0][0];

        private async Task<List<string?[]>> QueryAsync(string database, string sql) =>
            await PostgresServer.QueryAsync(new NpgsqlConnectionStringBuilder(cluster.ConnectionString(database)) { Pooling = false }.ConnectionString, sql);

        public async ValueTask DisposeAsync()
        {
            await cluster.StopAsync(fast: true);
        }
    }
}
