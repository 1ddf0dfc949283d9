using MigrationTasks.Dev;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Staging;

namespace MigrationTasks.Core.Tests.InMemory;

/// <summary>
/// The dev loop's and the staging gate's decisions over <see cref="InMemoryEngine"/>: what is applied where, what is
/// validated on a shadow, what staging keeps after a rehearsal, and which findings are reported.
/// </summary>
public sealed class DevAndStagingDecisionTests : InMemoryShopTest
{
    private StringWriter _output = null!;

    [SetUp]
    public void NewOutput() => _output = new StringWriter();

    [Test]
    public async Task The_dev_deploy_applies_every_migration_to_an_empty_database_then_only_the_pending_one_after_validating_all_on_a_shadow()
    {
        var v1 = File("Migrations/V1__customer.sql", "create table customer");
        var v2 = File("Migrations/V2__orders.sql", "create table orders");

        await DevLoop().DeployAsync(DevOptions(v1, v2), CancellationToken.None);
        var firstOutput = _output.ToString();
        var historyAfterFirst = Shop.History;
        var v3 = File("Migrations/V3__audit.sql", "create table audit");
        await DevLoop().DeployAsync(DevOptions(v1, v2, v3), CancellationToken.None);

        Assert.That(firstOutput, Does.Contain("is empty, so deploying to it validates every migration from scratch"));
        Assert.That(historyAfterFirst.Select(h => h.Script), Is.EqualTo(new[] { "V1__customer.sql", "V2__orders.sql" }));
        Assert.That(Shop.History.Select(h => h.Script), Is.EqualTo(new[] { "V1__customer.sql", "V2__orders.sql", "V3__audit.sql" }), "V1 and V2 were not applied again");
        Assert.That(Shop.Has("table", "audit"), Is.True);
        var shadow = Engine.Databases.Where(d => d.Name.StartsWith("shop_shadow_", StringComparison.Ordinal)).Select(d => d.State).Single();
        Assert.That(shadow.History.Select(h => h.Script), Is.EqualTo(new[] { "V1__customer.sql", "V2__orders.sql", "V3__audit.sql" }), "the whole chain built from nothing");
    }

    [Test]
    public async Task A_failing_migration_stops_the_dev_deploy_with_an_error_at_its_file_and_the_database_keeps_what_committed_before_it()
    {
        var v1 = File("Migrations/V1__customer.sql", "create table customer");
        var v2 = File("Migrations/V2__orders.sql", "create table orders;\nfail division by zero");

        Assert.That(async () => await DevLoop().DeployAsync(DevOptions(v1, v2), CancellationToken.None), Throws.InstanceOf<DiagnosticException>()
            .With.Message.Contains("V2__orders.sql").Or.Property(nameof(DiagnosticException.Diagnostics)).Some.Property(nameof(Diagnostic.File)).EndsWith("V2__orders.sql"));

        Assert.That(Shop.Has("table", "customer"), Is.True);
        Assert.That(Shop.Has("table", "orders"), Is.False, "V2 ran in one transaction and left nothing");
        Assert.That(Shop.History.Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[] { ("V1__customer.sql", HistoryOutcome.Success), ("V2__orders.sql", HistoryOutcome.Failed) }));
    }

    [Test]
    public async Task The_staging_gate_reports_drift_and_failed_checks_and_its_rehearsal_keeps_nothing()
    {
        var v1 = File("Migrations/V1__customer.sql", "create table customer");
        var v2 = File("Migrations/V2__orders.sql", "create table orders");
        await DevLoop().DeployAsync(DevOptions(v1), CancellationToken.None);
        await using (var staging = await Engine.ConnectAsync("memory:shop", CancellationToken.None))
        {
            // Someone changed staging by hand.
            var script = Engine.Prepare("hand.sql", "create table scratch");
            await staging.ApplyAsync(new MigrationStep(Migrations.MigrationFile.From(new Common.SourceFile("R__hand.sql", "create table scratch"u8.ToArray())), script), ApplyContext.ForThisMachine(), CancellationToken.None);
        }

        var before = Shop;
        var check = File("Checks/no_legacy.sql", "select missing table legacy");

        var report = await new StagingValidator(Engine, new Reporter(_output))
            .ValidateAsync(new StagingOptions([v1, v2], [check], Variable, Path.Combine(Folder, "state"), Path.Combine(Folder, "reports"), FindingsAsErrors: false), CancellationToken.None);

        Assert.That(report, Is.Not.Null);
        Assert.That(report!.PendingScripts, Is.EqualTo(new[] { "V2__orders.sql" }));
        Assert.That(report.Drift, Has.Some.Contains("scratch"), _output.ToString());
        Assert.That(report.Checks.Single().Passed, Is.False);
        Assert.That(report.Rehearsal!.Failure, Is.Null);
        Assert.That(report.Findings.Select(f => f.Code), Is.SupersetOf(new[] { DiagnosticCodes.StagingDrift }));
        Assert.That(Shop.Objects, Is.EqualTo(before.Objects), "the rehearsal of V2 was rolled back");
        Assert.That(Shop.History, Is.EqualTo(before.History));
    }

    private DevLoop DevLoop() => new(Engine, new Reporter(_output));

    private DevLoopOptions DevOptions(params string[] migrations) =>
        new(migrations, Variable, DevDatabaseMode.Auto, Path.Combine(Folder, "state"), TimeSpan.FromSeconds(5));

    private string File(string relativePath, string text)
    {
        var path = Path.Combine(Folder, "project", relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }
}
