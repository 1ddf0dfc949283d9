using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Production;
using MigrationTasks.Release;

namespace MigrationTasks.Tests.Suites;

/// <summary>
/// The way back on the engine under test once something committed: a migration run outside a transaction stops
/// half-applied and resumes where it stopped once fixed (never when its applied statements changed); a release run
/// migration by migration that fails is restored from its backup, on its own where the engine can tell that nobody
/// else wrote since the backup, else only when told to discard later writes (and otherwise left for a person).
/// </summary>
public abstract class RecoverySuite(EngineUnderTest engine)
{
    private const string Marker = EngineUnderTest.NoTransactionMarker + "\n";

    [OneTimeSetUp]
    public Task ServerAndBackups() => engine.RequireServerAndBackupsAsync();

    [Test]
    public async Task A_half_applied_no_transaction_migration_keeps_its_applied_statements_and_resumes_at_the_failed_one_once_fixed()
    {
        var workspace = await Workspace.CreateAsync(engine);
        var broken = Marker + engine.Script("CREATE TABLE t (a int);", "CREATE INDEX t_a ON t (nope);", "CREATE TABLE u (a int);");
        var file = workspace.Write("V1__mixed.sql", broken);

        var problems = await workspace.DeployAsync();

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{file}({TextLines.LineOf(broken, "CREATE INDEX")},1): error MIG2004: V1__mixed.sql failed on"), workspace.Output);
        Assert.That(problems[0].Message, Does.Contain("statements before 2 are applied and recorded in the history"));
        Assert.That((await workspace.HistoryAsync()).Select(h => (h.Outcome, h.StatementsApplied, h.StatementsTotal)), Is.EqualTo(new[] { (HistoryOutcome.Failed, 1, 3) }));
        Assert.That((await workspace.SnapshotAsync()).Objects.Select(o => o.Name), Does.Contain($"{engine.DefaultSchema}.t").And.Not.Contain($"{engine.DefaultSchema}.u"), "statement 1 stays applied");

        workspace.Write("V1__mixed.sql", Marker + engine.Script("CREATE TABLE t (a int);", "CREATE INDEX t_a ON t (a);", "CREATE TABLE u (a int);"));
        var resumed = await workspace.DeployAsync();

        Assert.That(resumed, Is.Empty, workspace.Output);
        Assert.That(workspace.Output, Does.Contain("resuming at statement 2"));
        Assert.That((await workspace.HistoryAsync()).Select(h => (h.Outcome, h.StatementsApplied)), Is.EqualTo(new[] { (HistoryOutcome.Failed, 1), (HistoryOutcome.Success, 3) }));
        Assert.That((await workspace.SnapshotAsync()).Hash, Is.EqualTo((await workspace.SchemaBuiltFromScratchAsync(workspace.Files)).Hash));
    }

    [Test]
    public async Task A_half_applied_migration_whose_applied_statements_changed_cannot_resume()
    {
        var workspace = await Workspace.CreateAsync(engine);
        workspace.Write("V1__mixed.sql", Marker + engine.Script("CREATE TABLE t (a int);", "SELECT 1/0;"));
        Assert.That(await workspace.DeployAsync(), Has.Count.EqualTo(1), workspace.Output);
        var halfApplied = (await workspace.SnapshotAsync()).Hash;

        var file = workspace.Write("V1__mixed.sql", Marker + engine.Script("CREATE TABLE t (a bigint);", "SELECT 1;"));
        var problems = await workspace.DeployAsync();

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{file}(1,1): error MIG7004: V1__mixed.sql ran outside a transaction and stopped after statement 1 of 2"));
        Assert.That((await workspace.SnapshotAsync()).Hash, Is.EqualTo(halfApplied));
    }

    [Test]
    public async Task A_partial_failure_since_resumed_does_not_block_later_releases()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var broken = production.Write("a/V1__t.sql", Marker + engine.Script("CREATE TABLE t (i int);", "INSERT INTO t VALUES (1/0);"));
        var resumed = production.Write("b/V1__t.sql", Marker + engine.Script("CREATE TABLE t (i int);", "INSERT INTO t VALUES (1);"));
        Assert.That(await production.DeployAsync([broken]), Has.Count.EqualTo(1), production.Output);
        Assert.That(await production.DeployAsync([resumed]), Is.Empty, production.Output);
        var baseline = await production.BaselineAsync();

        var (report, output) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__x.sql", "CREATE TABLE x (a int);")]));

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Succeeded), output + string.Join("; ", report.Differences));
        Assert.That((await production.HistoryAsync()).Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[]
        {
            ("V1__t.sql", HistoryOutcome.Failed), ("V1__t.sql", HistoryOutcome.Success), ("V2__x.sql", HistoryOutcome.Success),
        }));
    }

    [Test]
    public async Task Migration_by_migration_a_failure_midway_restores_the_backup_to_the_pre_state_schema_and_every_row()
    {
        var (production, report) = await ReleaseRunnerSuite.DeployAReleaseFailingAtItsSecondMigrationAsync(engine, transactionPerMigration: true);

        Assert.That(report.Steps.Single(s => s.Node == FlowChart.Restore).State, Is.EqualTo(StepState.Passed), "V2 had committed: only the backup undoes it");
        Assert.That(report.Migrations.Select(m => m.State), Is.EqualTo(new[] { "applied", "failed, its transaction rolled back" }));
        Assert.That((await production.AttemptsAsync()).Select(a => a.State), Is.EqualTo(new[] { DeployState.Verified, DeployState.Restored }));
    }

    [Test]
    public async Task A_non_transactional_migration_failing_midway_is_restored()
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, rowsBefore) = await production.DeployFirstReleaseAsync(ReleaseRunnerSuite.Shop + "\nINSERT INTO customer VALUES (4, 'Ada', NULL);");
        var release = production.Release("shop", "1.1.0", baseline, migrations:
        [
            production.Write("next/V2__indexes.sql", engine.Script(
                engine.IndexOutsideATransaction("customer_email_idx", "customer", "email").Sql,
                engine.IndexOutsideATransaction("customer_name_key", "customer", "name", unique: true).Sql)),
        ]);

        var (report, output) = await production.DeployAsync(release, discardLaterWrites: !engine.TellsWritesSinceBackup);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(report.Migrations.Single().State, Is.EqualTo("failed at statement 2"));
        Assert.That(report.Steps.Single(s => s.Node == FlowChart.Restore).State, Is.EqualTo(StepState.Passed), "the first index had committed");
        await ReleaseRunnerSuite.AssertPreStateAsync(production, baseline, rowsBefore);
    }

    [Test]
    public async Task Migration_by_migration_a_verification_failing_after_commit_is_restored_where_the_engine_can_tell_nobody_wrote_since_the_backup()
    {
        var (production, baseline, rowsBefore, report, output) = await FailingVerificationAfterCommitAsync(discardLaterWrites: false);

        if (engine.TellsWritesSinceBackup)
        {
            Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
            Assert.That(output, Does.Contain("error MIG6014"));
            Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.DataCorrect, StepState.Failed)).And.Contain((FlowChart.Restore, StepState.Passed)));
            await ReleaseRunnerSuite.AssertPreStateAsync(production, baseline, rowsBefore);
            Assert.That((await production.AttemptsAsync()).Select(a => a.State), Is.EqualTo(new[] { DeployState.Verified, DeployState.Restored }));
        }
        else
        {
            // Whether others wrote since the backup cannot be told: a restore would risk their writes, so a person decides.
            Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.NeedsAttention), output);
            Assert.That(output, Does.Contain($"error {DiagnosticCodes.WritesSinceBackup}"));
            Assert.That(await production.QueryAsync("SELECT count(*) FROM customer"), Has.One.Items.EqualTo(new[] { "2" }), "left as the migration made it, for a person");
            Assert.That((await production.AttemptsAsync()).Select(a => a.State), Is.EqualTo(new[] { DeployState.Verified, DeployState.NeedsPerson }));
        }
    }

    [Test]
    public async Task Migration_by_migration_a_verification_failing_after_commit_is_restored_with_discard_later_writes_and_the_attempt_recorded_after_it()
    {
        var (production, baseline, rowsBefore, report, output) = await FailingVerificationAfterCommitAsync(discardLaterWrites: true);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.Restore, StepState.Passed)));
        await ReleaseRunnerSuite.AssertPreStateAsync(production, baseline, rowsBefore);
        Assert.That((await production.AttemptsAsync()).Select(a => a.State), Is.EqualTo(new[] { DeployState.Verified, DeployState.Restored }),
            "recorded with the restore, which put back a database that had no row of this attempt");
    }

    /// <summary>1.0.0 deployed, then 1.1.0 migration by migration: V2 commits, and Verify/ finds a customer missing.</summary>
    private async Task<(ProductionDatabase Production, ProductionDatabase.Baseline Baseline, List<string?[]> RowsBefore, DeployReport Report, string Output)>
        FailingVerificationAfterCommitAsync(bool discardLaterWrites)
    {
        var production = await ProductionDatabase.CreateAsync(engine);
        var (baseline, rowsBefore) = await production.DeployFirstReleaseAsync(ReleaseRunnerSuite.Shop);
        var (report, output) = await production.DeployAsync(
            ReleaseRunnerSuite.DroppingBob(production, "1.1.0", baseline), transactionPerMigration: true, discardLaterWrites: discardLaterWrites);
        return (production, baseline, rowsBefore, report, output);
    }
}
