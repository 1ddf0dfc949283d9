using System.Text;
using MigrationTasks.Common;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.Scripts;

namespace MigrationTasks.PostgreSql.Tests.Engine;

/// <summary>
/// What the database itself guarantees, whatever the runner believes: a migration is applied once even when two
/// deploys race for it, a deploy whose lock was taken away cannot record a migration, an older history is brought
/// up to the rule, and a script that ends inside its own transaction is rolled back, not left open.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class DeployGuaranteeTests
{
    private static readonly PostgresEngine Engine = new();

    private static (MigrationFile File, PreparedScript Script) Migration(string name, string sql)
    {
        var file = MigrationFile.From(new SourceFile(name, Encoding.UTF8.GetBytes(sql)));
        return (file, Engine.Prepare(name, sql));
    }

    [Test]
    public async Task Two_deploys_racing_for_one_migration_apply_it_once_and_the_second_stops_on_the_history_rule()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await PostgresServer.QueryAsync(connectionString, "CREATE TABLE customer (name text); INSERT INTO customer VALUES ('ada'); SELECT 1");
        var (file, script) = Migration("V1__mark.sql", "UPDATE customer SET name = name || '+';");
        await using var first = await Engine.ConnectAsync(connectionString, CancellationToken.None);
        await using var second = await Engine.ConnectAsync(connectionString, CancellationToken.None);
        var context = new ApplyContext("host", "shop", "1.0.0", "attempt-1");
        await using var a = await first.BeginReleaseTransactionAsync(context, CancellationToken.None);
        await a.ApplyAsync(new MigrationStep(file, script), CancellationToken.None);

        await using var b = await second.BeginReleaseTransactionAsync(context with { DeployId = "attempt-2" }, CancellationToken.None);
        var racing = b.ApplyAsync(new MigrationStep(file, script), CancellationToken.None);
        await Task.Delay(300);
        Assert.That(racing.IsCompleted, Is.False, "the second claim waits for the first deploy's transaction");
        await a.CommitAsync(new DeployAttempt("attempt-1", "shop", "1.0.0", "r", DeployState.Verified, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, null, "", "host"), CancellationToken.None);

        var lost = Assert.ThrowsAsync<DeployLockLostException>(() => racing)!;
        Assert.That(lost.Message, Does.Contain("another deploy applied V1__mark.sql"));
        await b.DisposeAsync();
        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT name FROM customer"), Is.EqualTo(new[] { new[] { "ada+" } }));
        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT deploy_id FROM migrationtasks.history"), Is.EqualTo(new[] { new[] { "attempt-1" } }));
    }

    [Test]
    public async Task A_deploy_whose_lock_session_was_ended_cannot_record_a_migration_and_commits_nothing()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await PostgresServer.QueryAsync(connectionString, "CREATE TABLE customer (name text); INSERT INTO customer VALUES ('ada'); SELECT 1");
        var (file, script) = Migration("V1__mark.sql", "UPDATE customer SET name = name || '+';");
        await using var database = await Engine.ConnectAsync(connectionString, CancellationToken.None);
        await using var deployLock = await database.AcquireDeployLockAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        await PostgresServer.QueryAsync(connectionString, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'MigrationTasks deploy lock%'");
        await Task.Delay(200);

        Assert.ThrowsAsync<DeployLockLostException>(() => deployLock.ProveHeldAsync(CancellationToken.None));
        var lost = Assert.ThrowsAsync<DeployLockLostException>(() => database.ApplyAsync(new MigrationStep(file, script), new ApplyContext("host", DeployId: "a"), CancellationToken.None))!;
        Assert.That(lost.Message, Does.Contain("no longer held"));
        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT name FROM customer"), Is.EqualTo(new[] { new[] { "ada" } }));
        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT count(*) FROM migrationtasks.history"), Is.EqualTo(new[] { new[] { "0" } }));
    }

    [Test]
    public async Task A_history_written_before_the_rule_is_brought_up_to_it_and_keeps_its_repeated_successes()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        // The table as earlier versions made it, with a repeatable script applied three times.
        await PostgresServer.QueryAsync(connectionString, """
            CREATE SCHEMA migrationtasks;
            CREATE TABLE migrationtasks.history (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, version text, description text NOT NULL, script text NOT NULL, kind text NOT NULL,
                checksum_sha256 text NOT NULL, statements_applied integer NOT NULL, statements_total integer NOT NULL, applied_statements_sha256 text NOT NULL,
                outcome text NOT NULL CHECK (outcome IN ('success', 'failed', 'running')), started_at timestamptz NOT NULL, finished_at timestamptz, error text,
                applied_by_user text NOT NULL DEFAULT current_user, applied_by_host text NOT NULL, package_id text, package_version text);
            INSERT INTO migrationtasks.history (version, description, script, kind, checksum_sha256, statements_applied, statements_total, applied_statements_sha256, outcome, started_at, applied_by_host)
            SELECT NULL, 'view', 'R__view.sql', 'repeatable', 'c' || i, 1, 1, '', 'success', now(), 'old' FROM generate_series(1, 3) i;
            SELECT 1
            """);
        await using var database = await Engine.ConnectAsync(connectionString, CancellationToken.None);

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.That(history, Has.Count.EqualTo(3), "an old history is read as it is");
        var (file, script) = Migration("R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS one;");
        await database.ApplyAsync(new MigrationStep(file, script), ApplyContext.ForThisMachine(), CancellationToken.None);

        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT id, supersedes FROM migrationtasks.history ORDER BY id"),
            Is.EqualTo(new[] { new[] { "1", "0" }, new[] { "2", "1" }, new[] { "3", "2" }, new[] { "4", "3" } }));
    }

    [Test]
    public async Task A_script_run_outside_a_transaction_that_ends_inside_its_own_is_rolled_back_and_reported_at_its_BEGIN()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await PostgresServer.QueryAsync(connectionString, "CREATE TABLE t (i int); SELECT 1");
        const string Text = "CREATE INDEX CONCURRENTLY t_i ON t (i);\nBEGIN;\nINSERT INTO t VALUES (1);\n";
        var file = MigrationFile.From(new SourceFile("V1__open.sql", Encoding.UTF8.GetBytes(Text)));
        // Prepared by hand: Prepare refuses such a file (MIG2027); this is the runner's own guard behind it.
        var statements = new List<ScriptStatement>
        {
            new("CREATE INDEX CONCURRENTLY t_i ON t (i)", 0, 1, 1),
            new("BEGIN", Text.IndexOf("BEGIN", StringComparison.Ordinal), 2, 1),
            new("INSERT INTO t VALUES (1)", Text.IndexOf("INSERT", StringComparison.Ordinal), 3, 1),
        };
        await using var database = await Engine.ConnectAsync(connectionString, CancellationToken.None);

        var failure = Assert.ThrowsAsync<ScriptFailedException>(() =>
            database.ApplyAsync(new MigrationStep(file, new PreparedScript("V1__open.sql", Text, statements, "marked")), ApplyContext.ForThisMachine(), CancellationToken.None))!;

        Assert.That(failure.StatementNumber, Is.EqualTo(2));
        Assert.That(failure.ServerMessage, Does.Contain("ends inside the transaction it opened"));
        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT count(*) FROM t"), Is.EqualTo(new[] { new[] { "0" } }));
        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT outcome, statements_applied FROM migrationtasks.history"), Is.EqualTo(new[] { new[] { "failed", "1" } }));
        Assert.That(await database.ReadHistoryAsync(CancellationToken.None), Has.Count.EqualTo(1), "the session is usable again");
    }
}
