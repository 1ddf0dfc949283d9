using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Production;
using MigrationTasks.Release;
using MigrationTasks.Schema;
using MigrationTasks.SqlServer.Engine;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// Backup, restore and the production runner on a real SQL Server, as PostgreSQL's ProductionRunnerTests: a deploy
/// ends 0, a failing verification ends 1 after the backup is restored with the schema proven equal. Needs a
/// server and a backup folder both sides see; ignored (reason printed) otherwise.
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
        var production = await SqlServerProduction.CreateAsync();
        await production.QueryAsync(Shop + "\nSELECT 1");
        await using var database = await new SqlServerEngine().ConnectAsync(production.ConnectionString, CancellationToken.None);
        var before = await database.ReadSchemaAsync(CancellationToken.None);

        var backup = await database.BackupAsync(production.BackupDirectory, hashRows: true, CancellationToken.None);

        Assert.That(backup.Proof, Does.Contain("RESTORE VERIFYONLY WITH CHECKSUM"));
        Assert.That(backup.SchemaHash, Is.EqualTo(before.Hash));
        Assert.That(File.Exists(backup.DumpPath), backup.DumpPath);
        Assert.That(File.Exists(Path.Combine(production.BackupDirectory, backup.Id + ".json")));

        await production.QueryAsync("ALTER TABLE dbo.customer ADD vip bit NOT NULL DEFAULT 0; DELETE FROM dbo.customer WHERE id = 2; SELECT 1");
        await database.RestoreAsync(DatabaseBackupLoad(production.BackupDirectory, backup.Id), new RestoreOptions(DiscardLaterWrites: true), CancellationToken.None);

        Assert.That((await database.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(before.Hash));
        Assert.That(await production.QueryAsync("SELECT count(*) FROM dbo.customer"), Has.One.Items.EqualTo(new[] { "3" }));
    }

    [Test]
    public async Task A_deploy_ends_0_and_a_failing_verification_ends_1_after_the_restore()
    {
        var production = await SqlServerProduction.CreateAsync();
        var (first, firstOutput) = await production.DeployAsync(production.Release("shop", "1.0.0",
            migrations: [production.Write("V1__customer.sql", Shop)],
            verify: [production.Write("verify/customers.sql", "SELECT id FROM dbo.customer WHERE name IS NULL;")]));

        Assert.That(first.Exit, Is.EqualTo(RunnerExitCode.Succeeded), firstOutput);
        Assert.That(first.Backup, Is.Not.Null);

        var baseline = await production.BaselineAsync();
        var rowsBefore = await production.QueryAsync("SELECT * FROM dbo.customer ORDER BY id");
        var (report, output) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline,
            migrations: [production.Write("next/V2__drop_bob.sql", "ALTER TABLE dbo.customer ADD vip bit NOT NULL CONSTRAINT df_vip DEFAULT 0;\nGO\nDELETE FROM dbo.customer WHERE email IS NULL;")],
            verify: [production.Write("verify/three_customers.sql", "SELECT count(*) FROM dbo.customer HAVING count(*) <> 3;")]));

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.Restore, StepState.Passed)));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash));
        Assert.That(await production.QueryAsync("SELECT * FROM dbo.customer ORDER BY id"), Is.EqualTo(rowsBefore));
    }

    [Test]
    public async Task No_password_reaches_the_output_or_the_report()
    {
        var production = await SqlServerProduction.CreateAsync();
        var (_, output) = await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__broken.sql", "SELECT 1/0;")]));

        var password = new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(production.ConnectionString).Password;
        Assume.That(password, Is.Not.Empty);
        Assert.That(output, Does.Not.Contain(password));
        foreach (var file in Directory.EnumerateFiles(production.ReportDirectory))
        {
            Assert.That(File.ReadAllText(file), Does.Not.Contain(password), file);
        }
    }

    private static Engines.DatabaseBackup DatabaseBackupLoad(string folder, string id) => Engines.DatabaseBackup.Load(folder, id);
}

/// <summary>A production database, a folder of scripts, and the runner with the real SQL Server engine.</summary>
internal sealed class SqlServerProduction
{
    private readonly string _folder = Directory.CreateTempSubdirectory("migrationtasks-sqlserver-production-").FullName;
    private readonly string _variable = "MIGRATIONTASKS_TEST_PRODUCTION_" + Guid.NewGuid().ToString("N");

    private SqlServerProduction(string connectionString, string backupDirectory)
    {
        ConnectionString = connectionString;
        BackupDirectory = backupDirectory;
        Environment.SetEnvironmentVariable(_variable, connectionString);
    }

    public string ConnectionString { get; }

    public string BackupDirectory { get; }

    public string ReportDirectory => Path.Combine(_folder, "report");

    public static async Task<SqlServerProduction> CreateAsync() =>
        new(await SqlServerTestServer.CreateDatabaseAsync(), await SqlServerTestServer.RequireBackupDirectoryAsync());

    public string Write(string name, string sql)
    {
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sql);
        return path;
    }

    public ReleaseToDeploy Release(string id, string version, Baseline? baseline = null, string[]? migrations = null, string[]? checks = null, string[]? verify = null) =>
        new(id, version, "SqlServer", SourceFile.ReadAll(migrations ?? []), SourceFile.ReadAll(checks ?? []), SourceFile.ReadAll(verify ?? []),
            baseline?.PreState ?? ReleaseToDeploy.EmptyDatabase, baseline?.Schema, null);

    public async Task<(DeployReport Report, string Output)> DeployAsync(ReleaseToDeploy release)
    {
        var output = new StringWriter();
        var options = new DeployOptions(_variable, BackupDirectory, ReportDirectory, TimeSpan.FromSeconds(30), null);
        var report = await new ProductionRunner(new SqlServerEngine(), new Reporter(output)).DeployAsync(() => release, options, CancellationToken.None);
        return (report, output.ToString());
    }

    /// <summary>What <c>migrate baseline</c> exports: the applied history and the schema, read now.</summary>
    public async Task<Baseline> BaselineAsync()
    {
        await using var database = await new SqlServerEngine().ConnectAsync(ConnectionString, CancellationToken.None);
        var baseline = await MigrationBaseline.ExportAsync("SqlServer", database, CancellationToken.None);
        return new Baseline(new ExpectedPreState(false, "baseline.json", baseline.AppliedHistory(), baseline.SchemaHash), baseline.Schema);
    }

    internal sealed record Baseline(ExpectedPreState PreState, SchemaSnapshot Schema);

    public async Task<SchemaSnapshot> SnapshotAsync()
    {
        await using var database = await new SqlServerEngine().ConnectAsync(ConnectionString, CancellationToken.None);
        return await database.ReadSchemaAsync(CancellationToken.None);
    }

    public Task<List<string?[]>> QueryAsync(string sql) => SqlServerTestServer.QueryAsync(ConnectionString, sql);
}
