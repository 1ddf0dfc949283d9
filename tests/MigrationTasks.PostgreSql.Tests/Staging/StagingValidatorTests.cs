using MigrationTasks.Diagnostics;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Tests.Engine;
using MigrationTasks.Staging;

namespace MigrationTasks.PostgreSql.Tests.Staging;

/// <summary>The staging gate on real databases: drift, checks and the rehearsal of pending migrations.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class StagingValidatorTests
{
    [Test]
    public async Task A_staging_database_built_by_its_history_has_no_drift()
    {
        var staging = await StagingAsync();

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        Assert.That(report.Drift, Is.Empty, output);
        Assert.That(report.Findings, Is.Empty, output);
        Assert.That(report.AppliedVersions, Is.EqualTo(new[] { "1", "2" }));
    }

    [Test]
    public async Task A_change_made_on_staging_by_hand_is_drift_named_object_by_object()
    {
        var staging = await StagingAsync();
        await staging.QueryAsync("ALTER TABLE customer ADD COLUMN nickname text; CREATE INDEX customer_name_idx ON customer (name); SELECT 1");

        var (report, _) = await ValidateAsync(staging, findingsAsErrors: false);

        Assert.That(report.Drift, Has.Some.Contains("public.customer.nickname"));
        Assert.That(report.Drift, Has.Some.Contains("public.customer_name_idx"));
        Assert.That(report.Findings.Select(f => (f.Code, f.Severity)), Has.All.EqualTo((DiagnosticCodes.StagingDrift, DiagnosticSeverity.Warning)));
        Assert.That(report.Findings, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task A_check_that_finds_rows_is_a_finding_at_its_file_with_the_rows()
    {
        var staging = await StagingAsync();
        var check = staging.Write("checks/no_unnamed_customers.sql", "-- names are required by the new UI\nSELECT id, email FROM customer WHERE name = '';");
        var passing = staging.Write("checks/emails_are_lower_case.sql", "SELECT id FROM customer WHERE email <> lower(email);");

        var (report, _) = await ValidateAsync(staging, findingsAsErrors: false, checks: [check, passing]);

        var finding = report.Findings.Single();
        Assert.That(finding.ToString(), Does.StartWith($"{check}(2,1): warning MIG4002: check failed: its last query returned 1 row(s)"));
        Assert.That(finding.Message, Does.Contain("(id=2, email=bob@example.com)"));
        Assert.That(report.Checks.Select(c => (Path.GetFileName(c.Path), c.Passed)), Is.EqualTo(new[] { ("emails_are_lower_case.sql", true), ("no_unnamed_customers.sql", false) }));
    }

    [Test]
    public async Task A_pending_migration_that_fails_on_staging_data_is_a_finding_and_staging_keeps_nothing()
    {
        var staging = await StagingAsync();
        staging.Write("V3__phone_required.sql", "CREATE TABLE audit (a int);\nALTER TABLE customer ALTER COLUMN phone SET NOT NULL;");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        var finding = report.Findings.Single();
        Assert.That(finding.Code, Is.EqualTo(DiagnosticCodes.RehearsalFailed), output);
        Assert.That(finding.Line, Is.EqualTo(2));
        Assert.That(finding.Message, Does.Contain("23502").And.Contain("column \"phone\" of relation \"customer\" contains null values"));
        Assert.That(report.Rehearsal!.Failure, Does.Contain("V3__phone_required.sql"));
        Assert.That(await staging.ScalarAsync("SELECT to_regclass('public.audit') IS NULL"), Is.EqualTo("t"), "the rehearsal was rolled back");
    }

    [Test]
    public async Task With_findings_as_errors_a_failed_rehearsal_is_an_error()
    {
        var staging = await StagingAsync();
        staging.Write("V3__phone_required.sql", "ALTER TABLE customer ALTER COLUMN phone SET NOT NULL;");

        var (report, _) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Findings.Single().Severity, Is.EqualTo(DiagnosticSeverity.Error));
    }

    [Test]
    public async Task A_rehearsal_that_succeeds_records_its_duration_and_leaves_staging_as_it_was()
    {
        var staging = await StagingAsync();
        staging.Write("V3__orders.sql", "CREATE TABLE shop_order (id int PRIMARY KEY, customer_id int REFERENCES customer (id));\nINSERT INTO shop_order VALUES (1, 1);");
        var before = await staging.ScalarAsync("SELECT count(*) FROM migrationtasks.history");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Findings, Is.Empty, output);
        Assert.That(report.PendingScripts, Is.EqualTo(new[] { "V3__orders.sql" }));
        Assert.That(report.Rehearsal!.Failure, Is.Null);
        Assert.That(report.Rehearsal.Where, Does.Contain("rolled back"));
        Assert.That(await staging.ScalarAsync("SELECT to_regclass('public.shop_order') IS NULL"), Is.EqualTo("t"));
        Assert.That(await staging.ScalarAsync("SELECT count(*) FROM migrationtasks.history"), Is.EqualTo(before));
    }

    [Test]
    public async Task Each_rehearsed_migration_starts_from_a_clean_session_as_it_will_on_deploy()
    {
        var staging = await StagingAsync();
        var owner = "app_owner_" + Guid.NewGuid().ToString("N")[..8];
        await staging.QueryAsync($"CREATE ROLE {owner}; GRANT CREATE ON SCHEMA public TO {owner}; SELECT 1");
        staging.Write("V3__as_owner.sql", $"SET ROLE {owner};\nCREATE TABLE owned (a int);\nCREATE TEMP TABLE batch AS SELECT 1 AS id;");
        // Only the deploying user owns customer; as the role this would be "must be owner of table customer".
        staging.Write("V4__as_deployer.sql", "ALTER TABLE customer ADD COLUMN nickname text;\nCREATE TEMP TABLE batch AS SELECT 2 AS id;");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Rehearsal!.Failure, Is.Null, output);
        Assert.That(report.Findings, Is.Empty, output);
    }

    [Test]
    public async Task Migrations_that_cannot_run_in_a_transaction_are_rehearsed_in_order_on_a_copy_of_staging_that_is_dropped()
    {
        var staging = await StagingAsync();
        staging.Write("V3__orders.sql", "CREATE TABLE shop_order (id int PRIMARY KEY, customer_id int REFERENCES customer (id));");
        staging.Write("V4__order_index.sql", "CREATE INDEX CONCURRENTLY shop_order_customer ON shop_order (customer_id);");
        var history = await staging.ScalarAsync("SELECT count(*) FROM migrationtasks.history");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Findings, Is.Empty, output);
        Assert.That(report.Rehearsal!.Where, Is.EqualTo("on a copy of staging because V4__order_index.sql cannot run in a transaction (CREATE INDEX CONCURRENTLY at line 1); the copy was dropped"));
        Assert.That(report.Rehearsal.Failure, Is.Null);
        Assert.That(output, Does.Contain("rehearsed 2 pending migration(s) on a copy of staging because V4__order_index.sql cannot run in a transaction"));
        Assert.That(await staging.ScalarAsync("SELECT to_regclass('public.shop_order') IS NULL"), Is.EqualTo("t"), "staging itself is unchanged");
        Assert.That(await staging.ScalarAsync("SELECT count(*) FROM migrationtasks.history"), Is.EqualTo(history));
        Assert.That(await staging.ScalarAsync("SELECT count(*) FROM pg_database WHERE datname LIKE current_database() || '\\_copy\\_%'"), Is.EqualTo("0"), "the copy was dropped");
    }

    [Test]
    public async Task A_concurrent_index_that_fails_on_the_copy_of_staging_is_a_finding_at_its_line()
    {
        var staging = await StagingAsync();
        var file = staging.Write("V3__one_customer.sql", "-- the new plan allows one customer\nCREATE UNIQUE INDEX CONCURRENTLY customer_single ON customer ((true));");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        var finding = report.Findings.Single();
        Assert.That(finding.ToString(), Does.StartWith($"{file}(2,1): warning MIG4005: V3__one_customer.sql would fail on"), output);
        Assert.That(finding.Message, Does.Contain("23505").And.Contain("The rehearsal ran on a copy of staging, which was dropped; staging is unchanged."));
        Assert.That(report.Rehearsal!.Where, Does.StartWith("on a copy of staging because V3__one_customer.sql cannot run in a transaction"));
        Assert.That(await staging.ScalarAsync("SELECT count(*) FROM pg_indexes WHERE indexname = 'customer_single'"), Is.EqualTo("0"));
    }

    /// <summary>A staging database at V2 with data, deployed the normal way.</summary>
    private static async Task<MigrationWorkspace> StagingAsync()
    {
        var staging = await MigrationWorkspace.CreateAsync();
        staging.Write("V1__customers.sql", "CREATE TABLE customer (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL);");
        staging.Write("V2__phone.sql", "ALTER TABLE customer ADD COLUMN phone text;\nINSERT INTO customer VALUES (1, 'ann@example.com', 'Ann', '555'), (2, 'bob@example.com', '', NULL);");
        Assert.That(await staging.DeployAsync(), Is.Empty, staging.Output);
        return staging;
    }

    private static async Task<(StagingReport Report, string Output)> ValidateAsync(MigrationWorkspace staging, bool findingsAsErrors, IReadOnlyList<string>? checks = null)
    {
        var variable = "MIGRATIONTASKS_TEST_STAGING_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, staging.ConnectionString);
        var output = new StringWriter();
        var reports = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "migrationtasks-staging-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var report = await new StagingValidator(new PostgresEngine(), new Reporter(output)).ValidateAsync(
                new StagingOptions(staging.Files, checks ?? [], variable, Path.Combine(reports, "state"), reports, findingsAsErrors),
                CancellationToken.None);
            Assert.That(File.Exists(Path.Combine(reports, StagingReportWriter.MarkdownName)), output.ToString());
            return (report!, output.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
