using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Tests.Suites;
using MigrationTasks.Staging;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The copy of a SQL Server database (backup, FILELISTONLY, RESTORE WITH MOVE) against a real server, alone and as
/// the staging gate's rehearsal for migrations that cannot run in a transaction. Ignored (reason printed) where no
/// server can be had.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerDatabaseCopyTests
{
    private const string Customers = """
        CREATE TABLE dbo.customer (id int NOT NULL CONSTRAINT pk_customer PRIMARY KEY, name nvarchar(100) NOT NULL, phone nvarchar(20) NULL);
        INSERT INTO dbo.customer VALUES (1, N'Ada', N'555'), (2, N'Bob', NULL), (3, N'Cy', N'556');
        """;

    [OneTimeSetUp]
    public Task Server() => SqlServerTestServer.RequireAsync();

    [Test]
    public async Task A_copy_has_the_sources_schema_and_rows_is_independent_of_it_and_is_dropped_on_dispose()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        workspace.Write("V1__customer.sql", Customers);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        await using var source = await workspace.ConnectAsync();
        var sourceSchema = await source.ReadSchemaAsync(CancellationToken.None);

        var (copy, reason) = await source.TryCreateCopyAsync(CancellationToken.None);

        Assert.That(reason, Is.Null);
        Assert.That(copy, Is.Not.Null);
        string copyName;
        await using (copy)
        {
            Assert.That(copy!.DisplayName, Does.StartWith("copy database ").And.Contain("_mtcopy_"));
            Assert.That(copy.DisplayName, Does.Not.Contain("left on the server"), "the copy's backup file was deleted");
            copyName = (await workspace.QueryAsync(SqlServerEngineUnderTest.CopiesOfThisDatabase)).Single()[0]!;
            var inCopy = new SqlConnectionStringBuilder(workspace.ConnectionString) { InitialCatalog = copyName }.ConnectionString;
            Assert.That(await SqlServerTestServer.QueryAsync(inCopy, "SELECT id, name FROM dbo.customer ORDER BY id"),
                Is.EqualTo(new[] { new[] { "1", "Ada" }, new[] { "2", "Bob" }, new[] { "3", "Cy" } }));
            Assert.That((await copy.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(sourceSchema.Hash));
            Assert.That((await copy.ReadHistoryAsync(CancellationToken.None)).Select(h => h.Script), Is.EqualTo(new[] { "V1__customer.sql" }));

            await SqlServerTestServer.QueryAsync(inCopy, "DELETE FROM dbo.customer; SELECT 1");
            Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM dbo.customer"), Is.EqualTo("3"), "the source keeps its rows");
        }

        Assert.That(await workspace.QueryAsync(SqlServerEngineUnderTest.CopiesOfThisDatabase), Is.Empty, $"{copyName} was dropped");
    }

    [Test]
    public async Task Migrations_that_cannot_run_in_a_transaction_are_rehearsed_on_a_copy_of_staging_that_is_dropped()
    {
        var staging = await StagingAsync();
        staging.Write("V3__orders.sql", "CREATE TABLE dbo.shop_order (id int NOT NULL PRIMARY KEY, customer_id int NOT NULL REFERENCES dbo.customer (id));");
        staging.Write("V4__snapshot.sql", "-- migrationtasks: no-transaction\nCREATE INDEX ix_shop_order_customer ON dbo.shop_order (customer_id);\nGO\nINSERT INTO dbo.shop_order VALUES (1, 1);");
        var history = await staging.ScalarAsync("SELECT count(*) FROM migrationtasks.history");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: true);

        Assert.That(report.Findings, Is.Empty, output);
        Assert.That(report.Rehearsal!.Where, Does.StartWith("on a copy of staging because V4__snapshot.sql cannot run in a transaction").And.EndWith("the copy was dropped"), output);
        Assert.That(report.Rehearsal.Failure, Is.Null);
        Assert.That(output, Does.Contain("rehearsed 2 pending migration(s) on a copy of staging"));
        Assert.That(output, Does.Not.Contain("left on the server"), "the copy's backup file was deleted");
        Assert.That(await staging.ScalarAsync("SELECT count(*) FROM sys.tables WHERE name = N'shop_order'"), Is.EqualTo("0"), "staging itself is unchanged");
        Assert.That(await staging.ScalarAsync("SELECT count(*) FROM migrationtasks.history"), Is.EqualTo(history));
        Assert.That(await staging.QueryAsync(SqlServerEngineUnderTest.CopiesOfThisDatabase), Is.Empty, "the copy was dropped");
    }

    [Test]
    public async Task A_no_transaction_migration_that_fails_on_the_copy_of_staging_is_a_finding_at_its_line()
    {
        var staging = await StagingAsync();
        var file = staging.Write("V3__phone_key.sql", "-- migrationtasks: no-transaction\n-- every customer has a phone now\nCREATE UNIQUE INDEX ux_customer_phone ON dbo.customer (phone) WHERE phone IS NOT NULL;\nGO\nALTER TABLE dbo.customer ALTER COLUMN phone nvarchar(20) NOT NULL;");

        var (report, output) = await ValidateAsync(staging, findingsAsErrors: false);

        var finding = report.Findings.Single();
        Assert.That(finding.Code, Is.EqualTo(DiagnosticCodes.RehearsalFailed), output);
        Assert.That(finding.File, Is.EqualTo(file));
        Assert.That(finding.Line, Is.EqualTo(5));
        Assert.That(finding.Message, Does.Contain("515").And.Contain("The rehearsal ran on a copy of staging, which was dropped; staging is unchanged."));
        Assert.That(await staging.ScalarAsync("SELECT count(*) FROM sys.indexes WHERE name = N'ux_customer_phone'"), Is.EqualTo("0"), "the index was made on the copy only");
        Assert.That(await staging.QueryAsync(SqlServerEngineUnderTest.CopiesOfThisDatabase), Is.Empty, "the copy was dropped");
    }

    /// <summary>A staging database at V2 with data, deployed the normal way.</summary>
    private static async Task<SqlServerWorkspace> StagingAsync()
    {
        var staging = await SqlServerWorkspace.CreateAsync();
        staging.Write("V1__customer.sql", Customers);
        staging.Write("V2__customer_name_index.sql", "CREATE INDEX ix_customer_name ON dbo.customer (name);");
        Assert.That(await staging.DeployAsync(), Is.Empty, staging.Output);
        return staging;
    }

    private static async Task<(StagingReport Report, string Output)> ValidateAsync(SqlServerWorkspace staging, bool findingsAsErrors)
    {
        var variable = "MIGRATIONTASKS_TEST_STAGING_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, staging.ConnectionString);
        var output = new StringWriter();
        var reports = Directory.CreateTempSubdirectory("migrationtasks-sqlserver-staging-").FullName;
        try
        {
            var report = await new StagingValidator(new SqlServerEngine(), new Reporter(output)).ValidateAsync(
                new StagingOptions(staging.Files, [], variable, Path.Combine(reports, "state"), reports, findingsAsErrors),
                CancellationToken.None);
            return (report!, output.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
