using MigrationTasks.Diagnostics;
using MigrationTasks.Staging;

namespace MigrationTasks.Tests.Suites;

/// <summary>
/// The staging gate of a migrations project on the engine under test, as <c>dotnet publish</c> runs it: drift
/// (staging against what its applied migrations build on a shadow), the checks on its data, and the rehearsal of the
/// pending migrations, which keeps nothing: rolled back on staging, or run on a copy of staging that is dropped.
/// </summary>
public abstract class StagingGateSuite(EngineUnderTest engine)
{
    [OneTimeSetUp]
    public Task Server() => engine.RequireServerAsync();

    [Test]
    public async Task A_staging_database_built_by_its_history_has_no_drift()
    {
        var staging = await StagingAsync(engine);

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        Assert.That(report.Drift, Is.Empty, output);
        Assert.That(report.Findings, Is.Empty, output);
        Assert.That(report.AppliedVersions, Is.EqualTo(new[] { "1", "2" }));
    }

    [Test]
    public async Task A_change_made_on_staging_by_hand_is_drift_named_object_by_object()
    {
        var staging = await StagingAsync(engine);
        await staging.QueryAsync("ALTER TABLE customer ADD nickname varchar(100)");
        await staging.QueryAsync("CREATE INDEX customer_name_idx ON customer (name)");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        Assert.That(report.Drift, Has.Some.Contains($"{engine.DefaultSchema}.customer.nickname"), output);
        Assert.That(report.Drift, Has.Some.Contains("customer_name_idx"));
        Assert.That(report.Findings.Select(f => (f.Code, f.Severity)), Has.All.EqualTo((DiagnosticCodes.StagingDrift, DiagnosticSeverity.Warning)));
        Assert.That(report.Findings, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task A_check_that_finds_rows_is_a_finding_at_its_file_with_the_rows()
    {
        var staging = await StagingAsync(engine);
        var check = staging.Write("checks/no_unnamed_customers.sql", "SELECT id, email FROM customer WHERE name = '';");
        var passing = staging.Write("checks/emails_are_lower_case.sql", "SELECT id FROM customer WHERE email <> lower(email);");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false, checks: [check, passing]);

        var finding = report.Findings.Single();
        Assert.That(finding.ToString(), Does.StartWith($"{check}(1,1): warning MIG4002: check failed: its last query returned 1 row(s)"), output);
        Assert.That(finding.Message, Does.Contain("(id=2, email=bob@example.com)"));
        Assert.That(report.Checks.Select(c => (Path.GetFileName(c.Path), c.Passed)), Is.EqualTo(new[] { ("emails_are_lower_case.sql", true), ("no_unnamed_customers.sql", false) }));
    }

    [Test]
    public async Task A_pending_migration_that_fails_on_staging_data_is_a_finding_and_staging_keeps_nothing()
    {
        var staging = await StagingAsync(engine);
        var before = await StateAsync(staging);
        staging.Write("V3__second_bob.sql", "CREATE TABLE audit (a int);\nINSERT INTO customer VALUES (2, 'bob2@example.com', 'Bob', NULL);");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        var finding = report.Findings.Single();
        Assert.That(finding.Code, Is.EqualTo(DiagnosticCodes.RehearsalFailed), output);
        Assert.That(finding.Severity, Is.EqualTo(DiagnosticSeverity.Warning));
        Assert.That(finding.Line, Is.EqualTo(2));
        Assert.That(finding.Message, Does.Contain(engine.DuplicateKeyError).And.Contain("The rehearsal was rolled back; staging is unchanged."));
        Assert.That(report.Rehearsal!.Failure, Does.Contain("V3__second_bob.sql"));
        Assert.That(await StateAsync(staging), Is.EqualTo(before), "the rehearsal was rolled back");
    }

    [Test]
    public async Task With_findings_as_errors_a_failed_rehearsal_is_an_error()
    {
        var staging = await StagingAsync(engine);
        staging.Write("V3__second_bob.sql", "INSERT INTO customer VALUES (2, 'bob2@example.com', 'Bob', NULL);");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Findings.Single().Severity, Is.EqualTo(DiagnosticSeverity.Error), output);
    }

    [Test]
    public async Task A_rehearsal_that_succeeds_leaves_staging_as_it_was()
    {
        var staging = await StagingAsync(engine);
        var before = await StateAsync(staging);
        staging.Write("V3__orders.sql", "CREATE TABLE shop_order (id int PRIMARY KEY, customer_id int REFERENCES customer (id));\nINSERT INTO shop_order VALUES (1, 1);");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Findings, Is.Empty, output);
        Assert.That(report.PendingScripts, Is.EqualTo(new[] { "V3__orders.sql" }));
        Assert.That(report.Rehearsal!.Failure, Is.Null);
        Assert.That(report.Rehearsal.Where, Is.EqualTo("on staging, in one transaction that was rolled back"));
        Assert.That(await StateAsync(staging), Is.EqualTo(before));
    }

    [Test]
    public async Task Migrations_that_cannot_run_in_a_transaction_are_rehearsed_in_order_on_a_copy_of_staging_that_is_dropped()
    {
        var staging = await StagingAsync(engine);
        var before = await StateAsync(staging);
        staging.Write("V3__orders.sql", "CREATE TABLE shop_order (id int PRIMARY KEY, customer_id int REFERENCES customer (id));");
        var (index, reason) = engine.IndexOutsideATransaction("shop_order_customer", "shop_order", "customer_id");
        staging.Write("V4__order_index.sql", index);

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Findings, Is.Empty, output);
        Assert.That(report.Rehearsal!.Where, Is.EqualTo($"on a copy of staging because V4__order_index.sql cannot run in a transaction ({reason}); the copy was dropped"));
        Assert.That(report.Rehearsal.Failure, Is.Null);
        Assert.That(output, Does.Contain("rehearsed 2 pending migration(s) on a copy of staging because V4__order_index.sql cannot run in a transaction"));
        Assert.That(await StateAsync(staging), Is.EqualTo(before), "staging itself is unchanged");
        Assert.That(await engine.CopiesOfAsync(staging.ConnectionString), Is.Empty, "the copy was dropped");
    }

    [Test]
    public async Task A_migration_that_fails_on_the_copy_of_staging_is_a_finding_at_its_line()
    {
        var staging = await StagingAsync(engine);
        var before = await StateAsync(staging);
        var (index, _) = engine.IndexOutsideATransaction("customer_phone_key", "customer", "phone", unique: true);
        var file = staging.Write("V3__one_customer_per_phone.sql", index);

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        var finding = report.Findings.Single();
        Assert.That(finding.ToString(), Does.StartWith($"{file}({TextLines.LineOf(index, "CREATE UNIQUE INDEX")},1): warning {DiagnosticCodes.RehearsalFailed}: V3__one_customer_per_phone.sql would fail on"), output);
        Assert.That(finding.Message, Does.Contain("The rehearsal ran on a copy of staging, which was dropped; staging is unchanged."));
        Assert.That(report.Rehearsal!.Where, Does.StartWith("on a copy of staging because V3__one_customer_per_phone.sql cannot run in a transaction"));
        Assert.That(await StateAsync(staging), Is.EqualTo(before), "the index was made on the copy only");
        Assert.That(await engine.CopiesOfAsync(staging.ConnectionString), Is.Empty, "the copy was dropped");
    }

    /// <summary>A staging database at V2 with data, deployed the normal way; two customers share a phone.</summary>
    public static async Task<Workspace> StagingAsync(EngineUnderTest engine)
    {
        var staging = await Workspace.CreateAsync(engine);
        staging.Write("V1__customers.sql", "CREATE TABLE customer (id int PRIMARY KEY, email varchar(100) NOT NULL, name varchar(100) NOT NULL);");
        staging.Write("V2__phone.sql", engine.Script(
            "ALTER TABLE customer ADD phone varchar(20);",
            "INSERT INTO customer VALUES (1, 'ann@example.com', 'Ann', '555'), (2, 'bob@example.com', '', '555');"));
        Assert.That(await staging.DeployAsync(), Is.Empty, staging.Output);
        return staging;
    }

    /// <summary>The staging gate over the workspace's migrations, with its reports written to a folder of their own.</summary>
    public static async Task<(StagingReport Report, string Output)> ValidateAsync(Workspace staging, bool findingsAsErrors, IReadOnlyList<string>? checks = null)
    {
        var output = new StringWriter();
        var reports = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "migrationtasks-staging-" + Guid.NewGuid().ToString("N"))).FullName;
        var report = await new StagingValidator(staging.Engine, new Reporter(output)).ValidateAsync(
            new StagingOptions(staging.Files, checks ?? [], staging.ConnectionVariable, Path.Combine(reports, "state"), reports, findingsAsErrors),
            CancellationToken.None);
        Assert.That(File.Exists(Path.Combine(reports, StagingReportWriter.MarkdownName)), output.ToString());
        return (report!, output.ToString());
    }

    /// <summary>What a rehearsal must leave as it was: the schema, the rows and the history.</summary>
    private static async Task<(string Schema, string Rows, string History)> StateAsync(Workspace staging) => (
        (await staging.SnapshotAsync()).Hash,
        string.Join('\n', (await staging.QueryAsync("SELECT * FROM customer ORDER BY id")).Select(r => string.Join('|', r))),
        string.Join('\n', (await staging.HistoryAsync()).Select(h => $"{h.Id} {h.Script} {h.Outcome}")));
}
