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
    private const string DropBob = "ALTER TABLE dbo.customer ADD vip bit NOT NULL CONSTRAINT df_vip DEFAULT 0;\nGO\nDELETE FROM dbo.customer WHERE email IS NULL;";

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
    public async Task A_release_deploys_in_one_transaction_with_its_attempt_and_a_rerun_says_already_deployed_and_verified()
    {
        var production = await SqlServerProduction.CreateAsync();
        var release = production.Release("shop", "1.0.0",
            migrations: [production.Write("V1__customer.sql", Shop), production.Write("V2__tier.sql", "ALTER TABLE dbo.customer ADD tier nvarchar(20) NOT NULL CONSTRAINT df_tier DEFAULT N'basic';")],
            verify: [production.Write("verify/customers.sql", "SELECT id FROM dbo.customer WHERE name IS NULL OR tier IS NULL;")]);

        var (report, output) = await production.DeployAsync(release);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Succeeded), output);
        Assert.That(report.Outcome, Does.Contain("in one transaction"));
        Assert.That(report.Backup, Is.Not.Null);
        Assert.That((await production.QueryAsync("SELECT script, outcome, deploy_id FROM migrationtasks.history ORDER BY id")).Select(r => string.Join('|', r)),
            Is.EqualTo(new[] { $"V1__customer.sql|success|{report.AttemptId}", $"V2__tier.sql|success|{report.AttemptId}" }));
        Assert.That(await production.QueryAsync("SELECT id, state FROM migrationtasks.deploys"), Is.EqualTo(new[] { new[] { report.AttemptId, "verified" } }));

        var (again, againOutput) = await production.DeployAsync(release);

        Assert.That(again.Exit, Is.EqualTo(RunnerExitCode.Succeeded), againOutput);
        Assert.That(again.Outcome, Does.Contain("already deployed and verified"));
        Assert.That(again.Backup, Is.Null, "a no-op takes no backup");
        Assert.That(await production.QueryAsync("SELECT count(*) FROM migrationtasks.history"), Has.One.Items.EqualTo(new[] { "2" }));
    }

    [Test]
    public async Task A_failing_verification_rolls_the_release_back_before_it_commits_without_a_restore()
    {
        var production = await SqlServerProduction.CreateAsync();
        var (baseline, rowsBefore) = await production.DeployedAsync(Shop);

        var (report, output) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__drop_bob.sql", DropBob)], verify: [ThreeCustomers(production)]));

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.DataCorrect, StepState.Failed)).And.Contain((FlowChart.Restore, StepState.Skipped)));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash));
        Assert.That(await production.QueryAsync("SELECT * FROM dbo.customer ORDER BY id"), Is.EqualTo(rowsBefore));
        Assert.That(await production.QueryAsync("SELECT script FROM migrationtasks.history ORDER BY id"), Is.EqualTo(new[] { new[] { "V1__customer.sql" } }),
            "a rolled-back release leaves the history as it was");
        Assert.That(await production.QueryAsync("SELECT state FROM migrationtasks.deploys ORDER BY started_at"), Is.EqualTo(new[] { new[] { "verified" }, new[] { "failed" } }));
    }

    [Test]
    public async Task Migration_by_migration_a_failing_verification_is_not_restored_without_discard_later_writes_and_needs_a_person()
    {
        // SQL Server keeps no write counters: whether others wrote since the backup cannot be told, so no restore on its own.
        var (production, _, _, report, output) = await FailingVerificationAfterCommitAsync(discardLaterWrites: false);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.NeedsAttention), output);
        Assert.That(output, Does.Contain("error MIG6024").And.Contain("SQL Server keeps no write counters"));
        Assert.That(await production.QueryAsync("SELECT count(*) FROM dbo.customer"), Has.One.Items.EqualTo(new[] { "2" }), "left as the migration made it, for a person");
        Assert.That(await production.QueryAsync($"SELECT state FROM migrationtasks.deploys WHERE id = N'{report.AttemptId}'"), Is.EqualTo(new[] { new[] { "needs_person" } }));
    }

    [Test]
    public async Task Migration_by_migration_a_failing_verification_is_restored_with_discard_later_writes_and_the_attempt_recorded_after_it()
    {
        var (production, baseline, rowsBefore, report, output) = await FailingVerificationAfterCommitAsync(discardLaterWrites: true);

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(report.Steps.Select(s => (s.Node, s.State)), Does.Contain((FlowChart.Restore, StepState.Passed)));
        Assert.That((await production.SnapshotAsync()).Hash, Is.EqualTo(baseline.Schema.Hash));
        Assert.That(await production.QueryAsync("SELECT * FROM dbo.customer ORDER BY id"), Is.EqualTo(rowsBefore));
        Assert.That(await production.QueryAsync("SELECT state FROM migrationtasks.deploys ORDER BY started_at"), Is.EqualTo(new[] { new[] { "verified" }, new[] { "restored" } }),
            "recorded after the RESTORE, which put back a database that had no row of this attempt");
    }

    [Test]
    public async Task A_read_only_database_is_refused_untouched_before_any_backup()
    {
        var production = await SqlServerProduction.CreateAsync();
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

    /// <summary>1.0.0 deployed, then 1.1.0 migration by migration: V2 commits, and Verify/ finds a customer missing.</summary>
    private static async Task<(SqlServerProduction Production, SqlServerProduction.Baseline Baseline, List<string?[]> RowsBefore, DeployReport Report, string Output)>
        FailingVerificationAfterCommitAsync(bool discardLaterWrites)
    {
        var production = await SqlServerProduction.CreateAsync();
        var (baseline, rowsBefore) = await production.DeployedAsync(Shop);
        var (report, output) = await production.DeployAsync(
            production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__drop_bob.sql", DropBob)], verify: [ThreeCustomers(production)]),
            transactionPerMigration: true,
            discardLaterWrites: discardLaterWrites);
        return (production, baseline, rowsBefore, report, output);
    }

    private static string ThreeCustomers(SqlServerProduction production) =>
        production.Write("verify/three_customers.sql", "SELECT count(*) FROM dbo.customer HAVING count(*) <> 3;");

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

    public async Task<(DeployReport Report, string Output)> DeployAsync(ReleaseToDeploy release, bool transactionPerMigration = false, bool discardLaterWrites = false)
    {
        var output = new StringWriter();
        var options = new DeployOptions(_variable, BackupDirectory, ReportDirectory, TimeSpan.FromSeconds(30), null,
            TransactionPerMigration: transactionPerMigration, DiscardLaterWrites: discardLaterWrites);
        var report = await new ProductionRunner(new SqlServerEngine(), new Reporter(output)).DeployAsync(() => release, options, CancellationToken.None);
        return (report, output.ToString());
    }

    /// <summary>Deploys 1.0.0 (V1__customer.sql) and returns its baseline and the rows of dbo.customer.</summary>
    public async Task<(Baseline Baseline, List<string?[]> Rows)> DeployedAsync(string v1)
    {
        var (first, output) = await DeployAsync(Release("shop", "1.0.0", migrations: [Write("V1__customer.sql", v1)]));
        Assert.That(first.Exit, Is.EqualTo(RunnerExitCode.Succeeded), output);
        return (await BaselineAsync(), await QueryAsync("SELECT * FROM dbo.customer ORDER BY id"));
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
