using System.Text;
using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Production;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.InMemory;

/// <summary>
/// The production runner's decisions, over <see cref="InMemoryEngine"/>: which exit code each situation gets, and that
/// the database then holds exactly the pre-state or the post-state. The same promises are proven on a real
/// PostgreSQL by the engine suites and the fault-injection tests; here they run in milliseconds, so every branch of
/// the flow can be pinned down without a server.
/// </summary>
public sealed class ProductionRunnerDecisionTests : InMemoryShopTest
{
    private string BackupDirectory => Path.Combine(Folder, "backups");

    [Test]
    public async Task A_release_to_an_empty_database_deploys_verifies_and_a_rerun_does_nothing()
    {
        var release = Release(migrations: [("V1__customer.sql", "create table customer"), ("V2__orders.sql", "create table orders")], verify: [("orders.sql", "select missing table orders")]);

        var first = await DeployAsync(release);
        var historyAfterFirst = Shop.History;
        var second = await DeployAsync(release);

        Assert.That(first.Exit, Is.EqualTo(RunnerExitCode.Succeeded), first.Output);
        Assert.That(Shop.Has("table", "customer") && Shop.Has("table", "orders"), Is.True);
        Assert.That(historyAfterFirst.Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[] { ("V1__customer.sql", HistoryOutcome.Success), ("V2__orders.sql", HistoryOutcome.Success) }));
        Assert.That(Shop.Attempts.Single().State, Is.EqualTo(DeployState.Verified));
        Assert.That(second.Exit, Is.EqualTo(RunnerExitCode.Succeeded), second.Output);
        Assert.That(second.Output, Does.Contain("already deployed and verified"));
        Assert.That(Shop.History, Is.EqualTo(historyAfterFirst), "a re-run applies nothing");
    }

    [Test]
    public async Task A_database_that_is_not_the_expected_pre_state_is_refused_with_exit_2_untouched_and_never_backed_up()
    {
        await SeedAsync("create table legacy");
        var before = Shop;

        var result = await DeployAsync(Release(migrations: [("V1__customer.sql", "create table customer")]));

        Assert.That(result.Exit, Is.EqualTo(RunnerExitCode.Refused), result.Output);
        Assert.That(result.Output, Does.Contain(DiagnosticCodes.PreStateMismatch).And.Contain("table legacy exists"));
        Assert.That(Shop.Objects, Is.EqualTo(before.Objects));
        Assert.That(Shop.History, Is.EqualTo(before.History));
        Assert.That(Directory.Exists(BackupDirectory) ? Directory.GetFiles(BackupDirectory) : [], Is.Empty, "refused before the backup");
    }

    [Test]
    public async Task A_read_only_database_is_refused_with_exit_2_before_the_backup()
    {
        Engine.FaultsOf("shop").ReadOnly = "it is a hot standby";

        var result = await DeployAsync(Release(migrations: [("V1__customer.sql", "create table customer")]));

        Assert.That(result.Exit, Is.EqualTo(RunnerExitCode.Refused), result.Output);
        Assert.That(result.Output, Does.Contain(DiagnosticCodes.ReadOnlyTarget).And.Contain("hot standby"));
        Assert.That(Shop.Has("table", "customer"), Is.False);
        Assert.That(Directory.Exists(BackupDirectory) ? Directory.GetFiles(BackupDirectory) : [], Is.Empty);
    }

    [TestCase("migration")]
    [TestCase("verification")]
    public async Task A_failure_inside_the_one_release_transaction_leaves_the_pre_state_with_exit_1_and_nothing_to_restore(string where)
    {
        var release = where == "migration"
            ? Release(migrations: [("V1__customer.sql", "create table customer"), ("V2__orders.sql", "create table orders; fail disk quota")])
            : Release(migrations: [("V1__customer.sql", "create table customer")], verify: [("audit.sql", "select missing table audit")]);

        var result = await DeployAsync(release);

        Assert.That(result.Exit, Is.EqualTo(RunnerExitCode.Failed), result.Output);
        Assert.That(Shop.Objects.Keys, Is.EqualTo(new[] { "schema main" }), "the pre-state");
        Assert.That(Shop.History.Where(h => h.Outcome == HistoryOutcome.Success), Is.Empty);
        Assert.That(Shop.Attempts.Single().State, Is.EqualTo(DeployState.Failed));
        Assert.That(result.Output, Does.Not.Contain("restoring backup"), "a rollback, not a restore");
    }

    [Test]
    public async Task A_failure_after_a_commit_restores_the_backup_and_exits_1_at_the_pre_state()
    {
        var result = await DeployAsync(
            Release(migrations: [("V1__customer.sql", "create table customer"), ("V2__orders.sql", "create table orders; fail disk quota")]),
            transactionPerMigration: true);

        Assert.That(result.Exit, Is.EqualTo(RunnerExitCode.Failed), result.Output);
        Assert.That(Shop.Objects.Keys, Is.EqualTo(new[] { "schema main" }), "V1 was committed, and the restore took it back");
        Assert.That(Shop.History, Is.Empty, "the history as it was at the backup");
        Assert.That(Shop.Attempts.Single().State, Is.EqualTo(DeployState.Restored));
    }

    [Test]
    public async Task A_restore_that_would_discard_other_sessions_writes_is_not_done_exit_3_and_the_next_deploy_refuses_until_resolved()
    {
        var release = Release(migrations: [("V1__customer.sql", "create table customer"), ("V2__orders.sql", "fail constraint violated")]);
        Engine.FaultsOf("shop").ApplicationWritesAfterBackup = true;

        var result = await DeployAsync(release, transactionPerMigration: true);
        var again = await DeployAsync(release);

        Assert.That(result.Exit, Is.EqualTo(RunnerExitCode.NeedsAttention), result.Output);
        Assert.That(result.Output, Does.Contain(DiagnosticCodes.WritesSinceBackup));
        Assert.That(Shop.Has("table", "customer"), Is.True, "V1 and the application's writes are kept, not silently discarded");
        Assert.That(again.Exit, Is.EqualTo(RunnerExitCode.NeedsAttention), again.Output);
        Assert.That(again.Output, Does.Contain(DiagnosticCodes.EarlierDeployUnfinished));
    }

    [Test]
    public async Task A_runner_that_lost_its_lock_mid_release_commits_nothing_and_exits_3()
    {
        var result = await DeployAsync(Release(migrations: [("V1__customer.sql", "create table customer; lose lock"), ("V2__orders.sql", "create table orders")]));

        Assert.That(result.Exit, Is.EqualTo(RunnerExitCode.NeedsAttention), result.Output);
        Assert.That(result.Output, Does.Contain(DiagnosticCodes.DeployLockLost));
        Assert.That(Shop.Objects.Keys, Is.EqualTo(new[] { "schema main" }), "the release transaction never committed");
    }

    [Test]
    public async Task A_half_applied_no_transaction_migration_is_restored_and_reported_with_how_far_it_got()
    {
        var release = Release(migrations: [("V1__index.sql", $"{InMemoryEngine.NoTransactionMarker}\ncreate index a; fail lock not available; create index c")]);

        var result = await DeployAsync(release);

        Assert.That(result.Exit, Is.EqualTo(RunnerExitCode.Failed), result.Output);
        Assert.That(Shop.Has("index", "a"), Is.False, "restored");
        Assert.That(result.Report.Migrations.Single().Script, Is.EqualTo("V1__index.sql"));
        Assert.That(Shop.Attempts.Single().State, Is.EqualTo(DeployState.Restored));
    }

    [Test]
    public async Task Plan_reads_and_changes_nothing()
    {
        var output = new StringWriter();
        var sql = new StringWriter();

        var exit = await new ProductionRunner(Engine, new Reporter(output))
            .PlanAsync(Release(migrations: [("V1__customer.sql", "create table customer")]), Variable, sql, CancellationToken.None);

        Assert.That(exit, Is.EqualTo(RunnerExitCode.Succeeded), output.ToString());
        Assert.That(sql.ToString(), Does.Contain("create table customer"));
        Assert.That(Shop.Objects.Keys, Is.EqualTo(new[] { "schema main" }));
        Assert.That(Shop.Attempts, Is.Empty);
    }

    private async Task SeedAsync(string statements)
    {
        await using var database = await Engine.ConnectAsync("memory:shop", CancellationToken.None);
        var script = Engine.Prepare("seed.sql", statements);
        await database.ApplyAsync(new MigrationStep(Migrations.MigrationFile.From(Source("R__seed.sql", statements)), script), ApplyContext.ForThisMachine(), CancellationToken.None);
    }

    private static ReleaseToDeploy Release(
        (string Name, string Text)[] migrations, (string Name, string Text)[]? checks = null, (string Name, string Text)[]? verify = null) => new(
        "shop",
        "1.0.0",
        "InMemory",
        [.. migrations.Select(m => Source(m.Name, m.Text))],
        [.. (checks ?? []).Select(c => Source(c.Name, c.Text))],
        [.. (verify ?? []).Select(v => Source(v.Name, v.Text))],
        ReleaseToDeploy.EmptyDatabase,
        null,
        null);

    private static SourceFile Source(string name, string text) => new(name, Encoding.UTF8.GetBytes(text));

    private async Task<(RunnerExitCode Exit, string Output, DeployReport Report)> DeployAsync(
        ReleaseToDeploy release, bool transactionPerMigration = false)
    {
        var output = new StringWriter();
        var options = new DeployOptions(Variable, BackupDirectory, Path.Combine(Folder, "reports"), TimeSpan.FromSeconds(5), TransactionPerMigration: transactionPerMigration);
        var report = await new ProductionRunner(Engine, new Reporter(output)).DeployAsync(() => release, options, CancellationToken.None);
        return (report.Exit, output.ToString(), report);
    }
}
