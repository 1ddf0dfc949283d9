using MigrationTasks.Diagnostics;
using MigrationTasks.Schema;
using MigrationTasks.SqlServer.Planning;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.SqlServer.Tests.Live;

namespace MigrationTasks.SqlServer.Tests.Planning;

/// <summary>
/// The baseline exported from a real database (ignored, reason printed, where no SQL Server can be had): its catalog
/// fingerprint is the one the deploy reads from the live catalog, and a plan against it keeps the history schema.
/// </summary>
[TestFixture]
public sealed class BaselineExportLiveTests
{
    [OneTimeSetUp]
    public Task Server() => SqlServerTestServer.RequireAsync();

    [Test]
    public async Task An_exported_baseline_has_the_live_catalog_fingerprint_and_a_plan_against_it_keeps_the_history()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        workspace.Write("V1__customer.sql", """
            CREATE SCHEMA sales;
            GO
            CREATE TABLE sales.customer (id int NOT NULL CONSTRAINT pk_customer PRIMARY KEY, name nvarchar(100) NOT NULL);
            GO
            CREATE VIEW sales.customer_names AS SELECT name FROM sales.customer;
            """);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        using var folder = new ScratchFolder();
        var baseline = folder.PathOf("production.dacpac");

        await BaselineDacpacExporter.ExportAsync(workspace.ConnectionString, baseline, CancellationToken.None);

        await using (var database = await workspace.ConnectAsync())
        {
            Assert.That(DacpacCatalog.Fingerprint(baseline, "X"), Is.EqualTo(CatalogFingerprint.Of(await database.ReadSchemaAsync(CancellationToken.None))));
        }

        var schema = folder.Write("Schema/customer.sql",
            "CREATE TABLE sales.customer (id int NOT NULL CONSTRAINT pk_customer PRIMARY KEY, name nvarchar(100) NOT NULL, email nvarchar(200) NULL);\n");
        var files = new[]
        {
            folder.Write("Schema/sales.sql", "CREATE SCHEMA sales;\n"),
            schema,
            folder.Write("Schema/customer_names.sql", "CREATE VIEW sales.customer_names AS SELECT name FROM sales.customer;\n"),
        };
        var project = folder.PathOf("project.dacpac");
        Assert.That(new DacpacBuilder(new Reporter(TextWriter.Null)).Build(new DacpacBuildOptions(files, project)).Written, Is.True);

        var plan = new SqlServerPlanner(new Reporter(TextWriter.Null)).Plan(new DeployPlanOptions(project, baseline, "Shop", files));

        Assert.That(plan.Findings, Is.Empty);
        Assert.That(plan.Report.Operations.Select(o => $"{o.Kind} {o.Name}"), Is.EqualTo(new[] { "Alter [sales].[customer]" }));
    }
}
