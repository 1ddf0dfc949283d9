using MigrationTasks.Engines;
using MigrationTasks.Production;
using MigrationTasks.Release;

namespace MigrationTasks.Tests.Suites;

/// <summary>
/// The production runner on the engine under test: a release deploys in one transaction with its verification and
/// a re-run is a no-op; a production not in the packaged state is refused untouched; a failing migration, Verify/
/// query or post-state rolls the whole release back to the pre-state; checks and the window refuse before anything
/// runs; plan changes nothing. Every way out is compared with the exact state: schema hash, rows and history.
/// </summary>
public abstract class ReleaseRunnerSuite(EngineUnderTest engine)
{
    public const string Shop = """
        CREATE TABLE customer (id int PRIMARY KEY, name varchar(100) NOT NULL, email varchar(100));
        INSERT INTO customer VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bob', NULL), (3, 'Cy', 'cy@example.com');
        """;

    [OneTimeSetUp]
    public Task ServerAndBackups() => engine.RequireServerAndBackupsAsync();

    [Test]
    public async Task A_release_deploys_in_one_transaction_to_its_verified_post_state_and_a_rerun_is_a_no_op()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        string[] migrations = [production.Write("V1__customer.sql", Shop), production.Write("V2__tier.sql", "ALTER TABLE customer ADD tier varchar(20) NOT NULL DEFAULT 'basic';")];
        var postState = (await production.SchemaBuiltFromScratchAsync(migrations)).Hash;
        var release = production.Release("shop", "1.0.0",
            migrations: migrations,
            checks: [production.Write("checks/nothing_yet.sql", "SELECT 1 WHERE 1 = 0;")],
            verify: [production.Write("verify/every_customer_has_a_tier.sql", "SELECT id FROM customer WHERE tier IS NULL;")],
            postState: new ExpectedPostState(postState));

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Succeeded), output);
        Assert.That(report.Outcome, Does.Contain("in one transaction"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.DataCorrect, StepState.Passed)));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(postState));
        Assert.That((await production.QueryAsync("SELECT script, outcome, package_id, package_version, deploy_id FROM migrationtasks.history ORDER BY id")).Select(r => string.Join('|', r)),
            Is.EqualTo(new[] { $"V1__customer.sql|success|shop|1.0.0|{report.AttemptId}", $"V2__tier.sql|success|shop|1.0.0|{report.AttemptId}" }));
        Assert.That((await production.AttemptsAsync()).Select(a => (a.Id, a.State)), Is.EqualTo(new[] { (report.AttemptId, DeployState.Verified) }));
        Assert.That(report.Backup, Is.Not.Null);
        Assert.That(File.Exists(report.Backup!.Path), report.Backup.Path);
        var markdown = File.ReadAllText(Path.Combine(production.ReportDirectory, DeployReportWriter.MarkdownName));
        Assert.That(markdown, Does.Contain("```mermaid").And.Contain("flowchart TD").And.Contain("J[\"Create database backup"));
        Assert.That(markdown, Does.Match(@"class [A-Z,]*\bJ\b[A-Z,]* passed"));
        Assert.That(markdown, Does.Match(@"class [A-Z,]*\bS\b[A-Z,]* passed"));
        Assert.That(markdown, Does.Contain("| `V2__tier.sql` | one transaction | applied | 1/1 |"));

        var (again, againOutput) = await production.DeployAsync(release);

        Assert.That(again.Exit, Is.EqualTo(RunnerExitCode.Succeeded), againOutput);
        Assert.That(again.Outcome, Does.Contain("already deployed and verified"));
        Assert.That(again.Backup, Is.Null, "a no-op takes no backup");
        Assert.That(await production.HistoryAsync(), Has.Count.EqualTo(2));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(postState));
    }

    [Test]
    public async Task Production_changed_after_packaging_is_refused_with_the_difference_and_untouched()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, _) = await production.DeployFirstReleaseAsync(Shop);
        await production.QueryAsync("ALTER TABLE customer ADD hotfix varchar(100)");
        var changed = await production.SnapshotAsync();
        var release = production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__x.sql", "CREATE TABLE x (a int);")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Refused), output);
        Assert.That(output, Does.Contain("error MIG6010").And.Contain($"{engine.DefaultSchema}.customer.hotfix"));
        Assert.That(report.Differences, Has.Some.Contains($"{engine.DefaultSchema}.customer.hotfix"));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(changed.Hash));
        Assert.That(await production.HistoryAsync(), Has.Count.EqualTo(1));
        Assert.That(report.Backup, Is.Null);
    }

    [Test]
    public async Task A_migration_failing_midway_rolls_the_whole_release_back_in_its_one_transaction_without_a_restore()
    {
        var (production, report) = await DeployAReleaseFailingAtItsSecondMigrationAsync(engine, transactionPerMigration: false);

        Assert.That(report.Steps.Single(s => s.Node == FlowChart.Restore).State, Is.EqualTo(StepState.Skipped), "nothing was committed, so nothing is restored");
        Assert.That(report.Migrations.Select(m => m.State), Is.EqualTo(new[] { "rolled back with the release", "failed; the release rolled back" }));
        Assert.That((await production.AttemptsAsync()).Select(a => a.State), Is.EqualTo(new[] { DeployState.Verified, DeployState.Failed }));
    }

    [Test]
    public async Task A_first_migration_failing_in_its_transaction_needs_no_restore()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var empty = (await production.SnapshotAsync()).Hash;
        var release = production.Release("shop", "1.0.0",
            migrations: [production.Write("V1__broken.sql", "CREATE TABLE customer (id int PRIMARY KEY);\nINSERT INTO customer VALUES (1), (1);")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain(engine.DuplicateKeyError));
        Assert.That(report.Steps.Single(s => s.Node == FlowChart.Restore).State, Is.EqualTo(StepState.Skipped));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(empty));
        Assert.That(await production.HistoryAsync(), Is.Empty);
    }

    [Test]
    public async Task A_verification_failing_rolls_the_release_back_before_it_commits()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, rowsBefore) = await production.DeployFirstReleaseAsync(Shop);

        var (report, output) = await production.DeployAsync(DroppingBob(production, "1.1.0", baseline));

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.DataCorrect, StepState.Failed)).And.Contain((FlowChart.Restore, StepState.Skipped)));
        await AssertPreStateAsync(production, baseline, rowsBefore);
        Assert.That((await production.AttemptsAsync()).Select(a => a.State), Is.EqualTo(new[] { DeployState.Verified, DeployState.Failed }));
    }

    [Test]
    public async Task A_post_state_other_than_the_packaged_one_rolls_the_release_back_before_it_commits()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, rowsBefore) = await production.DeployFirstReleaseAsync(Shop);
        // Packaged as if V2 changed nothing: the schema it makes is not the one the package promises.
        var release = production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__x.sql", "CREATE TABLE x (a int);")], postState: new ExpectedPostState(baseline.Schema.Hash));

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6017"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.DataCorrect, StepState.Failed)).And.Contain((FlowChart.Restore, StepState.Skipped)));
        await AssertPreStateAsync(production, baseline, rowsBefore);
    }

    [Test]
    public async Task A_failing_check_on_production_refuses_and_a_deploy_outside_the_window_too()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, rowsBefore) = await production.DeployFirstReleaseAsync(Shop);
        var migration = production.Write("next/V2__x.sql", "CREATE TABLE x (a int);");
        var check = production.Write("checks/emails_present.sql", "SELECT id FROM customer WHERE email IS NULL;");

        var (checkReport, checkOutput) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline, migrations: [migration], checks: [check]));

        Assert.That(checkReport.Exit, Is.EqualTo(RunnerExitCode.Refused), checkOutput);
        Assert.That(checkOutput, Does.Contain($"{check}(1,1): error MIG6011").And.Contain("id=2"));

        var now = TimeOnly.FromDateTime(DateTime.UtcNow);
        var closed = new MaintenanceWindow(now.AddHours(2), now.AddHours(3));
        var (windowReport, windowOutput) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline, migrations: [migration]), window: closed);

        Assert.That(windowReport.Exit, Is.EqualTo(RunnerExitCode.Refused), windowOutput);
        Assert.That(windowOutput, Does.Contain("MIG6018"));
        await AssertPreStateAsync(production, baseline, rowsBefore);
    }

    [Test]
    public async Task Plan_prints_the_exact_sql_and_runs_the_checks_without_changing_anything()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, rowsBefore) = await production.DeployFirstReleaseAsync(Shop);
        var migration = production.Write("next/V2__tier.sql", "-- tiers for the loyalty programme\nALTER TABLE customer ADD tier varchar(20);");
        var check = production.Write("checks/names_present.sql", "SELECT id FROM customer WHERE name = '';");
        var release = production.Release("shop", "1.1.0", baseline, migrations: [migration], checks: [check]);

        var (exit, output, sql) = await production.PlanAsync(release);

        Assert.That(exit, Is.EqualTo(RunnerExitCode.Succeeded), output);
        Assert.That(sql, Does.Contain("-- V2__tier.sql: 1 statement(s), in one transaction\n-- tiers for the loyalty programme\nALTER TABLE customer ADD tier varchar(20);"));
        Assert.That(output, Does.Contain("1 check(s) passed"));
        await AssertPreStateAsync(production, baseline, rowsBefore);
        Assert.That(await production.AttemptsAsync(), Has.Count.EqualTo(1), "plan records no attempt");

        await production.QueryAsync("CREATE TABLE hotfix (a int)");
        var (refused, refusedOutput, _) = await production.PlanAsync(release);

        Assert.That(refused, Is.EqualTo(RunnerExitCode.Refused));
        Assert.That(refusedOutput, Does.Contain("error MIG6010").And.Contain($"{engine.DefaultSchema}.hotfix"));
    }

    /// <summary>
    /// Deploys 1.1.0 over a production at 1.0.0: V2 succeeds, V3 fails at its second statement. Either way the deploy
    /// fails (exit 1) and production ends at its pre-state: schema, every row, and history. Where a restore is needed
    /// and the engine cannot tell whether others wrote since the backup, the deploy is told to discard later writes.
    /// </summary>
    public static async Task<(ProductionDatabase Production, DeployReport Report)> DeployAReleaseFailingAtItsSecondMigrationAsync(EngineUnderTest engine, bool transactionPerMigration)
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, rowsBefore) = await production.DeployFirstReleaseAsync(Shop);
        var release = production.Release("shop", "1.1.0", baseline,
            migrations:
            [
                production.Write("next/V2__orders.sql", engine.Script("CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customer (id));", "INSERT INTO orders VALUES (1, 1);")),
                production.Write("next/V3__ada_again.sql", "UPDATE customer SET name = upper(name);\nINSERT INTO customer VALUES (1, 'Ada again', NULL);"),
            ]);

        var (report, output) = await production.DeployAsync(release, transactionPerMigration: transactionPerMigration, discardLaterWrites: !engine.TellsWritesSinceBackup);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("V3__ada_again.sql(2,1): error MIG6020").And.Contain(engine.DuplicateKeyError));
        await AssertPreStateAsync(production, baseline, rowsBefore);
        return (production, report);
    }

    /// <summary>1.1.0's V2 deletes the customer without an email, and its Verify/ query wants all three.</summary>
    public static ReleaseToDeploy DroppingBob(ProductionDatabase production, string version, ProductionDatabase.Baseline baseline) =>
        production.Release("shop", version, baseline,
            migrations: [production.Write("next/V2__drop_bob.sql", production.Under.Script("ALTER TABLE customer ADD vip int NOT NULL DEFAULT 0;", "DELETE FROM customer WHERE email IS NULL;"))],
            verify: [production.Write("verify/three_customers.sql", "SELECT count(*) FROM customer HAVING count(*) <> 3;")]);

    /// <summary>Production as 1.0.0 left it: its schema, every row of customer, and its history alone.</summary>
    public static async Task AssertPreStateAsync(ProductionDatabase production, ProductionDatabase.Baseline baseline, List<string?[]> rowsBefore)
    {
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash));
        Assert.That(await production.QueryAsync("SELECT * FROM customer ORDER BY id"), Is.EqualTo(rowsBefore));
        Assert.That((await production.HistoryAsync()).Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[] { ("V1__customer.sql", HistoryOutcome.Success) }),
            "a failed release leaves the history exactly as it was");
    }
}
