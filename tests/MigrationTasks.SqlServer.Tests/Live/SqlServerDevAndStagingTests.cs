using MigrationTasks.Dev;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Planning;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.Staging;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The SQL Server build and publish steps against a real server, as `dotnet build` and `dotnet publish` run them:
/// the dev deploy of a dacpac (DacFx's script against the live dev database, applied by the migration runner) and
/// its tests; the staging gate (drift against the baseline dacpac, checks, the release's script rehearsed and rolled
/// back). Ignored (reason printed) where no server can be had.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerDevAndStagingTests
{
    private const string Customer = "CREATE TABLE dbo.Customer (CustomerId int NOT NULL CONSTRAINT PK_Customer PRIMARY KEY, Name nvarchar(200) NOT NULL);\n";
    private const string Names = "CREATE VIEW dbo.CustomerNames AS SELECT Name FROM dbo.Customer;\n";
    private const string WithEmail = "CREATE TABLE dbo.Customer (CustomerId int NOT NULL CONSTRAINT PK_Customer PRIMARY KEY, Name nvarchar(200) NOT NULL, Email nvarchar(320) NULL);\n";

    [OneTimeSetUp]
    public Task Server() => SqlServerTestServer.RequireAsync();

    [Test]
    public async Task The_dev_deploy_applies_the_dacpac_keeps_the_history_and_a_changed_dacpac_applies_again()
    {
        using var folder = new ScratchFolder();
        var dev = await SqlServerTestServer.CreateDatabaseAsync();
        var test = folder.Write("Tests/names.sql", "SELECT Name FROM dbo.CustomerNames WHERE Name IS NULL;");

        var (first, firstOutput) = await DevDeployAsync(folder, dev, Build(folder, "v1", Customer, Names));
        Assert.That(first, Is.Empty, firstOutput);
        var (second, secondOutput) = await DevDeployAsync(folder, dev, Build(folder, "v2", WithEmail, Names));
        Assert.That(second, Is.Empty, secondOutput);

        Assert.That(await SqlServerTestServer.QueryAsync(dev, "SELECT COL_LENGTH('dbo.Customer', 'Email')"), Has.One.Items.Not.EqualTo(new string?[] { null }));
        var history = await SqlServerTestServer.QueryAsync(dev, "SELECT script, outcome FROM migrationtasks.history ORDER BY id");
        Assert.That(history.Select(r => string.Join('|', r)), Is.EqualTo(new[] { "R__deploy.sql|success", "R__deploy.sql|success" }),
            "each changed dacpac is one run of the deploy script, and the history table survives DropObjectsNotInSource");

        var variable = SetVariable(dev);
        var results = await new DevLoop(new SqlServerEngine(), new Reporter(TextWriter.Null)).TestAsync(
            Options(folder, variable, null), [test], folder.PathOf("tests.xml"), "Shop", CancellationToken.None);
        Assert.That(results, Has.Count.EqualTo(1).And.All.Matches<Testing.TestResult>(r => r.Passed));
    }

    [Test]
    public async Task A_dev_deploy_to_a_database_the_production_runner_deployed_leaves_its_history_index_and_deploys_table_alone()
    {
        using var folder = new ScratchFolder();
        var dev = await SqlServerTestServer.CreateDatabaseAsync();
        var now = DateTimeOffset.UtcNow;
        await using (var database = await new SqlServerEngine().ConnectAsync(dev, CancellationToken.None))
        {
            // What the runner leaves: the history (with its unique index) and migrationtasks.deploys.
            await database.RecordDeployAttemptAsync(
                new DeployAttempt("20260101T000000000Z-aaaaaa", "shop", "1.0.0", new string('a', 64), DeployState.Verified, now, now, null, null, "deployed", "h"),
                CancellationToken.None);
        }

        var (problems, output) = await DevDeployAsync(folder, dev, Build(folder, "v1", Customer, Names));

        Assert.That(problems, Is.Empty, output);
        var script = File.ReadAllText(folder.PathOf($"obj/dev-sqlserver/{SchemaDeployScript.FileName}"));
        Assert.That(script, Does.Not.Contain("migrationtasks"), "DacFx compared MigrationTasks' own tables as equal to their model");
        Assert.That(await SqlServerTestServer.QueryAsync(dev, "SELECT count(*) FROM migrationtasks.deploys"), Has.One.Items.EqualTo(new[] { "1" }));
        Assert.That(await SqlServerTestServer.QueryAsync(dev, "SELECT count(*) FROM sys.indexes WHERE name = N'history_applied_once'"), Has.One.Items.EqualTo(new[] { "1" }));
    }

    [Test]
    public async Task The_staging_gate_finds_drift_rehearses_the_release_script_and_rolls_it_back()
    {
        using var folder = new ScratchFolder();
        var staging = await SqlServerTestServer.CreateDatabaseAsync();
        await SqlServerTestServer.QueryAsync(staging, Customer + "INSERT INTO dbo.Customer VALUES (1, N'Ada');\nCREATE TABLE dbo.Scratch (Id int NOT NULL);\nSELECT 1");
        var baseline = Build(folder, "baseline", Customer);
        var project = Build(folder, "project", WithEmail, Names);

        var (report, output) = await ValidateAsync(folder, staging, project, baseline);

        Assert.That(report.Drift, Is.EqualTo(new[] { "column dbo.Scratch.Id is on staging and not in the baseline", "table dbo.Scratch is on staging and not in the baseline" }), output);
        Assert.That(report.Findings.Select(f => f.Code), Is.EqualTo(new[] { DiagnosticCodes.StagingDrift, DiagnosticCodes.StagingDrift }), output);
        Assert.That(report.Rehearsal!.Failure, Is.Null, output);
        Assert.That(report.Rehearsal.Where, Does.Contain("rolled back"));
        Assert.That(report.PendingScripts, Is.EqualTo(new[] { SchemaDeployScript.FileName }));
        Assert.That(await SqlServerTestServer.QueryAsync(staging, "SELECT COL_LENGTH('dbo.Customer', 'Email'), OBJECT_ID('dbo.CustomerNames')"),
            Has.One.Items.EqualTo(new string?[] { null, null }), "the rehearsal kept nothing");
    }

    [Test]
    public async Task A_release_script_that_fails_on_stagings_data_is_a_rehearsal_finding_at_its_line()
    {
        using var folder = new ScratchFolder();
        var staging = await SqlServerTestServer.CreateDatabaseAsync();
        await SqlServerTestServer.QueryAsync(staging, Customer + "INSERT INTO dbo.Customer VALUES (1, N'Ada'), (2, N'Bob');\nSELECT 1");
        var baseline = Build(folder, "baseline", Customer);
        // A NOT NULL column without default cannot be added to a table with rows.
        var project = Build(folder, "project", Customer.Replace("NOT NULL);", "NOT NULL, Tier nvarchar(20) NOT NULL);"));

        var (report, output) = await ValidateAsync(folder, staging, project, baseline);

        var failure = report.Findings.Single(f => f.Code == DiagnosticCodes.RehearsalFailed);
        Assert.That(failure.File, Does.EndWith(SchemaDeployScript.FileName), output);
        Assert.That(failure.Line, Is.GreaterThan(0));
        Assert.That(await SqlServerTestServer.QueryAsync(staging, "SELECT count(*) FROM dbo.Customer WHERE COL_LENGTH('dbo.Customer', 'Tier') IS NULL"),
            Has.One.Items.EqualTo(new[] { "2" }), "staging is unchanged");
    }

    [Test]
    public async Task A_release_script_that_names_production_and_cannot_run_in_a_transaction_is_not_rehearsed_on_staging()
    {
        using var folder = new ScratchFolder();
        var staging = await SqlServerTestServer.CreateDatabaseAsync();
        await SqlServerTestServer.QueryAsync(staging, Customer + "SELECT 1");
        var baseline = Build(folder, "baseline", Customer);
        // DacFx writes ALTER DATABASE [ShopDb] …: on a copy of staging it would still change the database it names.
        var project = Build(folder, "project", Customer, "ALTER DATABASE [$(DatabaseName)] ADD FILEGROUP [Archive];\n");

        var (report, output) = await ValidateAsync(folder, staging, project, baseline);

        Assert.That(output, Does.Contain("rehearsed with staging's name"));
        Assert.That(report.Rehearsal!.Where, Does.StartWith("not rehearsed: the release's script names its database"), output);
        Assert.That(await SqlServerTestServer.QueryAsync(staging, "SELECT count(*) FROM sys.filegroups WHERE name = N'Archive'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    private static async Task<(IReadOnlyList<Diagnostic> Problems, string Output)> DevDeployAsync(ScratchFolder folder, string connectionString, string dacpac)
    {
        var variable = SetVariable(connectionString);
        var output = new StringWriter();
        try
        {
            await new DevLoop(new SqlServerEngine(), new Reporter(output)).DeployAsync(Options(folder, variable, dacpac), CancellationToken.None);
            return ([], output.ToString());
        }
        catch (DiagnosticException e)
        {
            return (e.Diagnostics, output.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    private static DevLoopOptions Options(ScratchFolder folder, string variable, string? dacpac) => new(
        [],
        variable,
        DevDatabaseMode.Auto,
        folder.PathOf("obj"),
        TimeSpan.FromSeconds(30),
        dacpac is null
            ? null
            : (database, cancellationToken) => SchemaDeployScript.AgainstDatabaseAsync(
                database, new SchemaDeployScript.Options(dacpac, false, SqlServerPlatform.Default, folder.PathOf("obj/dev-sqlserver")), new Reporter(TextWriter.Null), cancellationToken));

    private static async Task<(StagingReport Report, string Output)> ValidateAsync(ScratchFolder folder, string connectionString, string dacpac, string baseline)
    {
        var variable = SetVariable(connectionString);
        var output = new StringWriter();
        try
        {
            var report = await new StagingValidator(new SqlServerEngine(), new Reporter(output)).ValidateAsync(
                new StagingOptions([], [], variable, folder.PathOf("obj"), folder.PathOf("reports"), FindingsAsErrors: false),
                new SqlServerStagingSource(new Reporter(output), new SqlServerStagingSource.Options(
                    dacpac, baseline, "ShopDb", false, SqlServerPlatform.Default, folder.PathOf("obj/staging-sqlserver"))),
                CancellationToken.None);
            return (report!, output.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    private static string SetVariable(string connectionString)
    {
        var variable = "MIGRATIONTASKS_TEST_SQLSERVER_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, connectionString);
        return variable;
    }

    private static string Build(ScratchFolder folder, string name, params string[] files) => folder.BuildDacpac(name, files);
}
