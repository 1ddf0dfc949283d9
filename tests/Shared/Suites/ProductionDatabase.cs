using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Production;
using MigrationTasks.Release;
using MigrationTasks.Schema;

namespace MigrationTasks.Tests.Suites;

/// <summary>A production database, a folder of scripts, and the production runner with the engine under test.</summary>
public sealed class ProductionDatabase : Workspace
{
    private ProductionDatabase(EngineUnderTest engine, string connectionString, string backupDirectory)
        : base(engine, connectionString) =>
        BackupDirectory = backupDirectory;

    /// <summary>Where the runner backs production up: a folder the server writes and the tests read.</summary>
    public string BackupDirectory { get; }

    public string ReportDirectory => Path.Combine(Folder, "report");

    /// <param name="connectionString">A connection string to use instead of a new database's.</param>
    public static async Task<ProductionDatabase> CreateAsync(EngineUnderTest engine, string? connectionString = null) =>
        new(engine, connectionString ?? await engine.CreateDatabaseAsync(), await engine.CreateBackupDirectoryAsync());

    /// <summary>A release as the verifier hands it to the runner, built in memory from files of this folder.</summary>
    public ReleaseToDeploy Release(
        string id, string version, Baseline? baseline = null, string[]? migrations = null, string[]? checks = null, string[]? verify = null, ExpectedPostState? postState = null) =>
        new(id, version, Engine.Name, SourceFile.ReadAll(migrations ?? []), SourceFile.ReadAll(checks ?? []), SourceFile.ReadAll(verify ?? []),
            baseline?.PreState ?? ReleaseToDeploy.EmptyDatabase, baseline?.Schema, postState);

    public async Task<(DeployReport Report, string Output)> DeployAsync(
        ReleaseToDeploy release, string? backupDirectory = null, MaintenanceWindow? window = null, bool transactionPerMigration = false, bool discardLaterWrites = false)
    {
        var output = new StringWriter();
        var options = new DeployOptions(ConnectionVariable, backupDirectory ?? BackupDirectory, ReportDirectory, TimeSpan.FromSeconds(30), window,
            TransactionPerMigration: transactionPerMigration, DiscardLaterWrites: discardLaterWrites);
        var report = await new ProductionRunner(Engine, new Reporter(output)).DeployAsync(() => release, options, CancellationToken.None);
        return (report, output.ToString());
    }

    public async Task<(RunnerExitCode Exit, string Output, string Sql)> PlanAsync(ReleaseToDeploy release)
    {
        var output = new StringWriter();
        var sql = new StringWriter { NewLine = "\n" };
        var exit = await new ProductionRunner(Engine, new Reporter(output)).PlanAsync(release, ConnectionVariable, sql, CancellationToken.None);
        return (exit, output.ToString(), sql.ToString());
    }

    /// <summary>
    /// Deploys release 1.0.0 of one migration, <c>V1__customer.sql</c>, and returns what a release after it is
    /// built for (the baseline) and the rows of <paramref name="table"/> ordered by id.
    /// </summary>
    public async Task<(Baseline Baseline, List<string?[]> Rows)> DeployFirstReleaseAsync(string v1, string table = "customer")
    {
        var (first, output) = await DeployAsync(Release("shop", "1.0.0", migrations: [Write("V1__customer.sql", v1)]));
        Assert.That(first.Exit, Is.EqualTo(RunnerExitCode.Succeeded), output);
        return (await BaselineAsync(), await QueryAsync($"SELECT * FROM {table} ORDER BY id"));
    }

    /// <summary>What <c>migrate baseline</c> exports: the applied history and the schema, read now.</summary>
    public async Task<Baseline> BaselineAsync()
    {
        await using var database = await ConnectAsync();
        var baseline = await MigrationBaseline.ExportAsync(Engine.Name, database, CancellationToken.None);
        return new Baseline(new ExpectedPreState(false, "baseline.json", baseline.AppliedHistory(), baseline.SchemaHash), baseline.Schema);
    }

    public sealed record Baseline(ExpectedPreState PreState, SchemaSnapshot Schema);
}
