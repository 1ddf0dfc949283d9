using System.Text.Json;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// `dotnet publish` of the SQL Server sample from the packed package, with its committed baseline dacpac and no
/// server: the release holds DacFx's deploy script against the baseline; a change that loses data fails the publish
/// unless MigrationAllowDataLoss=true.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerReleaseTests
{
    [Test]
    public async Task Publish_writes_the_deploy_script_against_the_baseline_and_data_loss_fails_it_unless_allowed()
    {
        var project = await DatabaseProject.FromSampleAsync("SqlShop");

        var (published, output) = await project.PublishAsync();

        Assert.That(published, Is.EqualTo(0), output);
        var release = Path.Combine(project.PublishDirectory, "release");
        var script = File.ReadAllText(Path.Combine(release, "migrations", "R__deploy.sql"));
        Assert.That(script, Does.Contain("CREATE VIEW sales.OrderSummary").And.Contain("CREATE PROCEDURE sales.GetCustomerOrders"));
        Assert.That(script, Does.Contain("ALTER TABLE [sales].[Customer]").And.Contain("[CreatedAt]"));
        Assert.That(script, Does.Not.Contain("$(").And.Not.Contain(":setvar"));
        Assert.That(script, Does.Not.Contain("CREATE TABLE [sales].[Product]"), "production already has it");
        // The sample's Checks/ and Verify/ travel in the release, byte for byte, for the runner to run on production.
        foreach (var (source, target) in new[] { ("Checks", "checks"), ("Verify", "verify") })
        {
            var expected = Directory.GetFiles(project.PathOf(source), "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.That(expected, Has.Count.GreaterThanOrEqualTo(2), $"the sample has {source}/ queries");
            Assert.That(Directory.GetFiles(Path.Combine(release, target)).Select(Path.GetFileName).Order(StringComparer.Ordinal), Is.EqualTo(expected));
            foreach (var name in expected)
            {
                Assert.That(File.ReadAllBytes(Path.Combine(release, target, name!)), Is.EqualTo(File.ReadAllBytes(project.PathOf($"{source}/{name}"))));
            }
        }

        // The sample's deploy script runs in one transaction: plan.md says a failure rolls it back, and what follows a commit.
        var plan = File.ReadAllText(Path.Combine(release, "plan.md"));
        Assert.That(plan, Does.Contain("## If it fails").And.Contain("runs in **one transaction**").And.Contain("the backup is not needed"));
        Assert.That(plan, Does.Contain("the 2 Verify/ queries run inside it, before it commits").And.Contain("a failing check of the 2 in Checks/"));
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(release, "manifest.json"))))
        {
            Assert.That(manifest.RootElement.GetProperty("engine").GetString(), Is.EqualTo("SqlServer"));
            Assert.That(manifest.RootElement.GetProperty("allowDataLoss").GetBoolean(), Is.False);
            Assert.That(manifest.RootElement.GetProperty("expectedPreState").GetProperty("baselineFile").GetString(), Is.EqualTo("baseline.dacpac"));
            Assert.That(manifest.RootElement.GetProperty("expectedState").GetString(), Is.EqualTo("catalogFingerprint"));
            Assert.That(manifest.RootElement.GetProperty("expectedPreState").GetProperty("catalogFingerprint").GetString(), Has.Length.EqualTo(64));
            Assert.That(manifest.RootElement.GetProperty("expectedPreState").GetProperty("modelHash").GetString(), Has.Length.EqualTo(64));
        }

        var (verified, verifyOutput) = await ProcessRunner.RunAsync(
            "dotnet", [Path.Combine(project.PublishDirectory, "migrate.dll"), "verify", "--allow-unsigned"], project.PublishDirectory, null, TimeSpan.FromMinutes(2));
        Assert.That(verified, Is.EqualTo(0), verifyOutput);

        var product = project.PathOf("Schema/Tables/Product.sql");
        project.Write("Schema/Tables/Product.sql", File.ReadAllText(product).Replace("Name         nvarchar(200)", "Name         nvarchar(100)"));
        var (refused, refusedOutput) = await project.PublishAsync();

        Assert.That(refused, Is.Not.EqualTo(0), refusedOutput);
        Assert.That(refusedOutput, Does.Contain($"{product}(5,5): error MIG4011: data loss (narrowing type): [sales].[Product].[Name]"));
        Assert.That(Directory.Exists(release), Is.False, "no release of a plan that loses data");

        var (allowed, allowedOutput) = await project.PublishAsync(null, "-p:MigrationAllowDataLoss=true");

        Assert.That(allowed, Is.EqualTo(0), allowedOutput);
        Assert.That(allowedOutput, Does.Contain($"{product}(5,5): warning MIG4011"));
        using var allowedManifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(release, "manifest.json")));
        Assert.That(allowedManifest.RootElement.GetProperty("allowDataLoss").GetBoolean(), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(release, "migrations", "R__deploy.sql")), Does.Contain("ALTER COLUMN [Name] NVARCHAR (100)"));
    }
}
