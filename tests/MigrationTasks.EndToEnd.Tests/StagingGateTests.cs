using MigrationTasks.PostgreSql.Tests;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>`dotnet publish` of a database project with a staging database: the gate's findings and reports.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class StagingGateTests
{
    [Test]
    public async Task Publish_rehearses_pending_migrations_on_staging_and_reports_drift_and_failed_checks()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var staging = await PostgresServer.CreateDatabaseAsync();
        var (built, builtOutput) = await project.BuildAsync(new Dictionary<string, string?> { ["MIGRATIONTASKS_DEV_CONNECTION"] = staging });
        Assert.That(built, Is.EqualTo(0), "staging gets the sample's migrations the normal way: " + builtOutput);
        project.Write("Migrations/V6__product_stock.sql", "ALTER TABLE product ADD COLUMN stock integer NOT NULL DEFAULT 0;");
        var check = project.Write("Checks/no_free_products.sql", "SELECT sku FROM product\nWHERE price = 0;");
        var withStaging = new Dictionary<string, string?> { ["MIGRATIONTASKS_STAGING_CONNECTION"] = staging };

        var (clean, cleanOutput) = await project.PublishAsync(withStaging);

        Assert.That(clean, Is.EqualTo(0), cleanOutput);
        Assert.That(cleanOutput, Does.Contain("no drift from what its applied migrations produce"));
        Assert.That(cleanOutput, Does.Contain("rehearsed 1 pending migration(s) on staging, in one transaction that was rolled back"));
        Assert.That(cleanOutput, Does.Not.Contain("MIG4"));
        var report = Path.Combine(project.PublishDirectory, "staging-report.md");
        Assert.That(File.ReadAllText(report), Does.Contain("**no findings**"));

        await PostgresServer.QueryAsync(staging, "UPDATE product SET price = 0 WHERE sku = 'BK-001'; ALTER TABLE customer ADD COLUMN hack text; SELECT 1");
        // Dev's seed data is lower case; staging now holds a customer the new constraint rejects.
        await PostgresServer.QueryAsync(staging, "INSERT INTO customer (email, name) VALUES ('Mixed@Example.com', 'Mixed Case'); SELECT 1");
        var constraint = project.Write("Migrations/V7__emails_lower_case.sql", "-- Logins compare emails in lower case.\nALTER TABLE customer ADD CONSTRAINT customer_email_lower CHECK (email = lower(email));");
        var (warned, warnedOutput) = await project.PublishAsync(withStaging);

        Assert.That(warned, Is.EqualTo(0), "findings are warnings by default: " + warnedOutput);
        Assert.That(warnedOutput, Does.Contain("warning MIG4001: drift on").And.Contain("public.customer.hack"));
        Assert.That(warnedOutput, Does.Contain($"{check}(1,1): warning MIG4002: check failed"));
        Assert.That(warnedOutput, Does.Contain($"{constraint}(2,1): warning MIG4005: V7__emails_lower_case.sql would fail").And.Contain("23514"));

        var (failed, failedOutput) = await project.PublishAsync(withStaging, "-p:MigrationTreatFindingsAsErrors=true");

        Assert.That(failed, Is.Not.EqualTo(0));
        Assert.That(failedOutput, Does.Contain("error MIG4001").And.Contain("error MIG4002").And.Contain("error MIG4005"));
        var history = await PostgresServer.QueryAsync(staging, "SELECT count(*) FROM migrationtasks.history WHERE version IN ('6', '7')");
        Assert.That(history[0][0], Is.EqualTo("0"), "publish never deploys to staging");
    }
}
