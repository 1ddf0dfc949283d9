using MigrationTasks.Engines;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Tests.Suites;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// Backup, restore and the production runner on a real SQL Server where they are SQL Server's own: RESTORE
/// VERIFYONLY, a READ_ONLY database, a login's password. The runner's path every engine takes (deploy, re-run, the
/// ways back, restores only with --discard-later-writes) is in the shared ReleaseRunnerSuite and RecoverySuite
/// (SqlServerReleaseRunnerSuite, SqlServerRecoverySuite). Needs a server and a backup folder both sides see;
/// ignored (reason printed) otherwise.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerProductionTests
{
    private const string Shop = """
        CREATE TABLE dbo.customer (id int NOT NULL PRIMARY KEY, name nvarchar(100) NOT NULL, email nvarchar(200) NULL);
        INSERT INTO dbo.customer VALUES (1, N'Ada', N'ada@example.com'), (2, N'Bob', NULL), (3, N'Cy', N'cy@example.com');
        """;

    [OneTimeSetUp]
    public async Task Server() => await SqlServerTestServer.RequireBackupDirectoryAsync();

    [Test]
    public async Task A_backup_is_verified_and_a_restore_brings_back_the_schema_and_the_rows()
    {
        var production = await ProductionDatabase.CreateAsync(SqlServerEngineUnderTest.Instance);
        await production.QueryAsync(Shop + "\nSELECT 1");
        await using var database = await new SqlServerEngine().ConnectAsync(production.ConnectionString, CancellationToken.None);
        var before = await database.ReadSchemaAsync(CancellationToken.None);

        var backup = await database.BackupAsync(production.BackupDirectory, hashRows: true, CancellationToken.None);

        Assert.That(backup.Proof, Does.Contain("RESTORE VERIFYONLY WITH CHECKSUM"));
        Assert.That(backup.SchemaHash, Is.EqualTo(before.Hash));
        Assert.That(File.Exists(backup.DumpPath), backup.DumpPath);
        Assert.That(File.Exists(Path.Combine(production.BackupDirectory, backup.Id + ".json")));

        await production.QueryAsync("ALTER TABLE dbo.customer ADD vip bit NOT NULL DEFAULT 0; DELETE FROM dbo.customer WHERE id = 2; SELECT 1");
        await database.RestoreAsync(DatabaseBackup.Load(production.BackupDirectory, backup.Id), new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None);

        Assert.That((await database.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(before.Hash));
        Assert.That(await production.QueryAsync("SELECT count(*) FROM dbo.customer"), Has.One.Items.EqualTo(new[] { "3" }));
    }

    [Test]
    public async Task A_read_only_database_is_refused_untouched_before_any_backup()
    {
        var production = await ProductionDatabase.CreateAsync(SqlServerEngineUnderTest.Instance);
        var name = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(production.ConnectionString).InitialCatalog;
        var master = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(production.ConnectionString) { InitialCatalog = "master" }.ConnectionString;
        await SqlServerTestServer.QueryAsync(master, $"ALTER DATABASE [{name}] SET READ_ONLY WITH ROLLBACK IMMEDIATE; SELECT 1");

        var (report, output) = await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Refused), output);
        Assert.That(output, Does.Contain("error MIG6025").And.Contain("READ_ONLY"));
        Assert.That(report.Backup, Is.Null);
        Assert.That(await production.QueryAsync("SELECT count(*) FROM sys.schemas WHERE name = N'migrationtasks'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task No_password_reaches_the_output_or_the_report()
    {
        var production = await ProductionDatabase.CreateAsync(SqlServerEngineUnderTest.Instance);
        var (_, output) = await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__broken.sql", "SELECT 1/0;")]));

        var password = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(production.ConnectionString).Password;
        Assume.That(password, Is.Not.Empty);
        Assert.That(output, Does.Not.Contain(password));
        foreach (var file in Directory.EnumerateFiles(production.ReportDirectory))
        {
            Assert.That(File.ReadAllText(file), Does.Not.Contain(password), file);
        }
    }
}
