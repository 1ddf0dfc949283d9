using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Release;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.Production;
using MigrationTasks.Schema;

namespace MigrationTasks.PostgreSql.Tests.Production;

/// <summary>
/// The production path on real databases: deploy, no-op re-run, and every way back to the pre-deploy state
/// (transaction rollback, restore after a failure midway, restore after a failed verification), plus refusals
/// that touch nothing.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ProductionRunnerTests
{
    private const string Shop = """
        CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text);
        INSERT INTO customer VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bob', NULL), (3, 'Cy', 'cy@example.com');
        """;

    [Test]
    public async Task A_deploy_applies_verifies_and_reports_the_path_and_a_rerun_is_a_no_op()
    {
        var production = await ProductionFixture.CreateAsync();
        var release = production.Release("shop", "1.0.0",
            migrations: [production.Write("V1__customer.sql", Shop), production.Write("V2__tier.sql", "ALTER TABLE customer ADD COLUMN tier text NOT NULL DEFAULT 'basic';")],
            checks: [production.Write("checks/nothing_yet.sql", "SELECT 1 WHERE false;")],
            verify: [production.Write("verify/every_customer_has_a_tier.sql", "SELECT id FROM customer WHERE tier IS NULL;")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Succeeded), output);
        var history = await production.QueryAsync("SELECT script, outcome, package_id, package_version FROM migrationtasks.history ORDER BY id");
        Assert.That(history.Select(r => string.Join('|', r)), Is.EqualTo(new[] { "V1__customer.sql|success|shop|1.0.0", "V2__tier.sql|success|shop|1.0.0" }));
        Assert.That(report.Backup, Is.Not.Null);
        Assert.That(File.Exists(report.Backup!.Path), report.Backup.Path);
        var markdown = File.ReadAllText(Path.Combine(production.ReportDirectory, DeployReportWriter.MarkdownName));
        Assert.That(markdown, Does.Contain("```mermaid").And.Contain("flowchart TD").And.Contain("J[\"Create database backup"));
        Assert.That(markdown, Does.Match(@"class [A-Z,]*\bJ\b[A-Z,]* passed"));
        Assert.That(markdown, Does.Match(@"class [A-Z,]*\bS\b[A-Z,]* passed"));
        Assert.That(markdown, Does.Contain("| `V2__tier.sql` | one transaction | applied | 1/1 |"));

        var (again, againOutput) = await production.DeployAsync(release);

        Assert.That(again.Exit, Is.EqualTo(RunnerExitCode.Succeeded), againOutput);
        Assert.That(again.Outcome, Does.Contain("already deployed"));
        Assert.That(again.Backup, Is.Null, "a no-op takes no backup");
        Assert.That(await production.QueryAsync("SELECT count(*) FROM migrationtasks.history"), Has.One.Items.EqualTo(new[] { "2" }));
    }

    [Test]
    public async Task A_migration_failing_midway_rolls_the_whole_release_back_in_its_one_transaction_without_a_restore()
    {
        var (production, report) = await DeployAReleaseFailingAtItsSecondMigrationAsync(transactionPerMigration: false);

        Assert.That(report.Steps.Single(s => s.Node == FlowChart.Restore).State, Is.EqualTo(StepState.Skipped), "nothing was committed, so nothing is restored");
        Assert.That(report.Migrations.Select(m => m.State), Is.EqualTo(new[] { "rolled back with the release", "failed; the release rolled back" }));
        Assert.That(await production.QueryAsync("SELECT state FROM migrationtasks.deploys ORDER BY started_at"), Is.EqualTo(new[] { new[] { "verified" }, new[] { "failed" } }));
    }

    [Test]
    public async Task Migration_by_migration_a_failure_midway_restores_the_backup_to_the_pre_state_schema_and_every_row()
    {
        var (production, report) = await DeployAReleaseFailingAtItsSecondMigrationAsync(transactionPerMigration: true);

        Assert.That(report.Steps.Single(s => s.Node == FlowChart.Restore).State, Is.EqualTo(StepState.Passed), "V2 had committed: only the backup undoes it");
        Assert.That(report.Migrations.Select(m => m.State), Is.EqualTo(new[] { "applied", "failed, its transaction rolled back" }));
        Assert.That(await production.QueryAsync("SELECT state FROM migrationtasks.deploys ORDER BY started_at"), Is.EqualTo(new[] { new[] { "verified" }, new[] { "restored" } }));
    }

    /// <summary>
    /// Deploys 1.1.0 over a production at 1.0.0: V2 succeeds, V3 fails at its second statement. Either way the deploy
    /// fails (exit 1) and production ends at its pre-state: schema, every row, and history.
    /// </summary>
    private static async Task<(ProductionFixture Production, DeployReport Report)> DeployAReleaseFailingAtItsSecondMigrationAsync(bool transactionPerMigration)
    {
        var production = await ProductionFixture.CreateAsync();
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var rowsBefore = await production.QueryAsync("SELECT * FROM customer ORDER BY id");
        var release = production.Release("shop", "1.1.0", baseline,
            migrations:
            [
                production.Write("next/V2__orders.sql", "CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customer);\nINSERT INTO orders VALUES (1, 1);"),
                production.Write("next/V3__email_required.sql", "UPDATE customer SET name = upper(name);\nALTER TABLE customer ALTER COLUMN email SET NOT NULL;"),
            ]);

        var (report, output) = await production.DeployAsync(release, transactionPerMigration: transactionPerMigration);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("V3__email_required.sql(2,1): error MIG6020").And.Contain("23502"));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash));
        Assert.That(await production.QueryAsync("SELECT * FROM customer ORDER BY id"), Is.EqualTo(rowsBefore));
        Assert.That(await production.QueryAsync("SELECT script FROM migrationtasks.history ORDER BY id"), Is.EqualTo(new[] { new[] { "V1__customer.sql" } }),
            "a failed release leaves the history exactly as it was");
        return (production, report);
    }

    [Test]
    public async Task A_first_migration_failing_in_its_transaction_needs_no_restore()
    {
        var production = await ProductionFixture.CreateAsync();
        var release = production.Release("shop", "1.0.0",
            migrations: [production.Write("V1__broken.sql", "CREATE TABLE customer (id int);\nINSERT INTO customer VALUES ('not a number');")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(report.Steps.Single(s => s.Node == FlowChart.Restore).State, Is.EqualTo(StepState.Skipped));
        Assert.That(await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'customer'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task A_verification_failing_rolls_the_release_back_before_it_commits()
    {
        var production = await ProductionFixture.CreateAsync();
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var rowsBefore = await production.QueryAsync("SELECT * FROM customer ORDER BY id");
        var release = production.Release("shop", "1.1.0", baseline,
            migrations: [production.Write("next/V2__drop_bob.sql", "ALTER TABLE customer ADD COLUMN vip boolean NOT NULL DEFAULT false;\nDELETE FROM customer WHERE email IS NULL;")],
            verify: [production.Write("verify/three_customers.sql", "SELECT count(*) FROM customer HAVING count(*) <> 3;")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.DataCorrect, StepState.Failed)).And.Contain((FlowChart.Restore, StepState.Skipped)));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash));
        Assert.That(await production.QueryAsync("SELECT * FROM customer ORDER BY id"), Is.EqualTo(rowsBefore));
        Assert.That(await production.QueryAsync("SELECT count(*) FROM migrationtasks.history"), Has.One.Items.EqualTo(new[] { "1" }));
    }

    [Test]
    public async Task Migration_by_migration_a_verification_failing_after_commit_restores_the_backup_with_schema_and_data_equal()
    {
        var production = await ProductionFixture.CreateAsync();
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var rowsBefore = await production.QueryAsync("SELECT * FROM customer ORDER BY id");
        var release = production.Release("shop", "1.1.0", baseline,
            migrations: [production.Write("next/V2__drop_bob.sql", "ALTER TABLE customer ADD COLUMN vip boolean NOT NULL DEFAULT false;\nDELETE FROM customer WHERE email IS NULL;")],
            verify: [production.Write("verify/three_customers.sql", "SELECT count(*) FROM customer HAVING count(*) <> 3;")]);

        var (report, output) = await production.DeployAsync(release, transactionPerMigration: true);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.DataCorrect, StepState.Failed)).And.Contain((FlowChart.Restore, StepState.Passed)));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash));
        Assert.That(await production.QueryAsync("SELECT * FROM customer ORDER BY id"), Is.EqualTo(rowsBefore));
    }

    [Test]
    public async Task A_non_transactional_migration_failing_midway_is_restored()
    {
        var production = await ProductionFixture.CreateAsync();
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop + "\nINSERT INTO customer VALUES (4, 'Ada', NULL);")]));
        var baseline = await production.BaselineAsync();
        var release = production.Release("shop", "1.1.0", baseline,
            migrations: [production.Write("next/V2__indexes.sql", "CREATE INDEX CONCURRENTLY customer_email_idx ON customer (email);\nCREATE UNIQUE INDEX CONCURRENTLY customer_name_key ON customer (name);")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(report.Migrations.Single().State, Is.EqualTo("failed at statement 2"));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash), "the committed first index and the invalid second one are gone");
    }

    [Test]
    public async Task Production_changed_after_packaging_is_refused_with_the_difference_and_untouched()
    {
        var production = await ProductionFixture.CreateAsync();
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        await production.QueryAsync("ALTER TABLE customer ADD COLUMN hotfix text; SELECT 1");
        var changed = await production.SnapshotAsync();
        var release = production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__x.sql", "CREATE TABLE x (a int);")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Refused), output);
        Assert.That(output, Does.Contain("error MIG6010").And.Contain("public.customer.hotfix"));
        Assert.That(report.Differences, Has.Some.Contains("public.customer.hotfix"));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(changed.Hash));
        Assert.That(report.Backup, Is.Null);
    }

    [Test]
    public async Task A_backup_folder_that_cannot_be_written_refuses_before_migrating()
    {
        var production = await ProductionFixture.CreateAsync();
        var file = production.Write("not-a-folder.txt", "a file where the backup folder should be");
        var release = production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]);

        var (report, output) = await production.DeployAsync(release, backupDirectory: Path.Combine(file, "backups"));

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Refused), output);
        Assert.That(output, Does.Contain("MIG6001"));
        Assert.That(await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'customer'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task A_failing_check_on_production_refuses_and_a_deploy_outside_the_window_too()
    {
        var production = await ProductionFixture.CreateAsync();
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
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
        Assert.That(await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'x'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task Plan_prints_the_exact_sql_and_runs_the_checks_without_changing_anything()
    {
        var production = await ProductionFixture.CreateAsync();
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var migration = production.Write("next/V2__tier.sql", "-- tiers for the loyalty programme\nALTER TABLE customer ADD COLUMN tier text;");
        var check = production.Write("checks/names_present.sql", "SELECT id FROM customer WHERE name = '';");
        var release = production.Release("shop", "1.1.0", baseline, migrations: [migration], checks: [check]);

        var (exit, output, sql) = await production.PlanAsync(release);

        Assert.That(exit, Is.EqualTo(RunnerExitCode.Succeeded), output);
        Assert.That(sql, Does.Contain("-- V2__tier.sql: 1 statement(s), in one transaction\n-- tiers for the loyalty programme\nALTER TABLE customer ADD COLUMN tier text;"));
        Assert.That(output, Does.Contain("1 check(s) passed"));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash), "plan is read-only");

        await production.QueryAsync("CREATE TABLE hotfix (a int); SELECT 1");
        var (refused, refusedOutput, _) = await production.PlanAsync(release);

        Assert.That(refused, Is.EqualTo(RunnerExitCode.Refused));
        Assert.That(refusedOutput, Does.Contain("error MIG6010").And.Contain("public.hotfix"));
    }

    [Test]
    public async Task No_password_reaches_the_output_the_report_or_the_history()
    {
        var production = await ProductionFixture.CreateAsync(password: "Sup3r-Secret-Pw");
        var (_, deployed) = await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var (_, failed) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__broken.sql", "SELECT 1/0;")]));
        var output = deployed + failed;

        Assert.That(output, Does.Not.Contain("Sup3r-Secret-Pw"));
        foreach (var file in Directory.EnumerateFiles(production.ReportDirectory))
        {
            Assert.That(File.ReadAllText(file), Does.Not.Contain("Sup3r-Secret-Pw"), file);
        }

        var history = await production.QueryAsync("SELECT h::text FROM migrationtasks.history h");
        Assert.That(history.SelectMany(r => r), Has.None.Contains("Sup3r-Secret-Pw"));
    }
}

/// <summary>A production database, a folder of scripts, and the runner with the real PostgreSQL engine.</summary>
internal sealed class ProductionFixture
{
    private readonly string _folder = Directory.CreateTempSubdirectory("migrationtasks-production-").FullName;
    private readonly string _variable = "MIGRATIONTASKS_TEST_PRODUCTION_" + Guid.NewGuid().ToString("N");

    private ProductionFixture(string connectionString)
    {
        ConnectionString = connectionString;
        Environment.SetEnvironmentVariable(_variable, connectionString);
    }

    public string ConnectionString { get; }

    public string ReportDirectory => Path.Combine(_folder, "report");

    public static async Task<ProductionFixture> CreateAsync(string? password = null)
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        // The throwaway cluster trusts local logins, so a password is accepted and ignored: enough to prove it never leaks.
        return new ProductionFixture(password is null ? connectionString : connectionString + $";Password={password}");
    }

    public string Write(string name, string sql)
    {
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sql);
        return path;
    }

    public ReleaseToDeploy Release(string id, string version, Baseline? baseline = null, string[]? migrations = null, string[]? checks = null, string[]? verify = null) =>
        new(id, version, "PostgreSql", SourceFile.ReadAll(migrations ?? []), SourceFile.ReadAll(checks ?? []), SourceFile.ReadAll(verify ?? []),
            baseline?.PreState ?? ReleaseToDeploy.EmptyDatabase, baseline?.Schema, null);

    public async Task<(DeployReport Report, string Output)> DeployAsync(
        ReleaseToDeploy release, string? backupDirectory = null, MaintenanceWindow? window = null, bool transactionPerMigration = false)
    {
        var output = new StringWriter();
        var options = new DeployOptions(_variable, backupDirectory ?? Path.Combine(_folder, "backups"), ReportDirectory, TimeSpan.FromSeconds(30), window,
            TransactionPerMigration: transactionPerMigration);
        var report = await new ProductionRunner(new PostgresEngine(), new Reporter(output)).DeployAsync(() => release, options, CancellationToken.None);
        return (report, output.ToString());
    }

    public async Task<(RunnerExitCode Exit, string Output, string Sql)> PlanAsync(ReleaseToDeploy release)
    {
        var output = new StringWriter();
        var sql = new StringWriter { NewLine = "\n" };
        var exit = await new ProductionRunner(new PostgresEngine(), new Reporter(output)).PlanAsync(release, _variable, sql, CancellationToken.None);
        return (exit, output.ToString(), sql.ToString());
    }

    /// <summary>What <c>migrate baseline</c> exports: the applied history and the schema, read now.</summary>
    public async Task<Baseline> BaselineAsync()
    {
        await using var database = await new PostgresEngine().ConnectAsync(ConnectionString, CancellationToken.None);
        var baseline = await MigrationBaseline.ExportAsync("PostgreSql", database, CancellationToken.None);
        return new Baseline(new ExpectedPreState(false, "baseline.json", baseline.AppliedHistory(), baseline.SchemaHash), baseline.Schema);
    }

    internal sealed record Baseline(ExpectedPreState PreState, SchemaSnapshot Schema);

    public async Task<SchemaSnapshot> SnapshotAsync()
    {
        await using var database = await new PostgresEngine().ConnectAsync(ConnectionString, CancellationToken.None);
        return await database.ReadSchemaAsync(CancellationToken.None);
    }

    public Task<List<string?[]>> QueryAsync(string sql) => PostgresServer.QueryAsync(ConnectionString, sql);
}
