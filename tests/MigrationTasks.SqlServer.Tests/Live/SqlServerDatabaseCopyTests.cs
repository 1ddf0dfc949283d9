using MigrationTasks.SqlServer.Tests.Suites;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The copy of a SQL Server database (backup, FILELISTONLY, RESTORE WITH MOVE) against a real server. The staging
/// gate's rehearsals on such copies are in the shared StagingGateSuite (SqlServerStagingGateSuite). Ignored (reason
/// printed) where no server can be had.
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
}
