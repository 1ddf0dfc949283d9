using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Live;
using MigrationTasks.SqlServer.Planning;
using MigrationTasks.SqlServer.Schema;
using Microsoft.SqlServer.Dac;

namespace MigrationTasks.SqlServer.Tests.Planning;

/// <summary>
/// The offline parts of the SQL Server dev deploy and staging gate, with real DacFx: the drift list, the script the
/// staging rehearsal runs (the release's own), and the history table that a dev deploy's plan must keep. Their live
/// halves are in Live/SqlServerDevAndStagingTests.
/// </summary>
public sealed class SqlServerStagingSourceTests
{
    private const string Customer = "CREATE TABLE dbo.Customer (CustomerId int NOT NULL PRIMARY KEY, Name nvarchar(200) NOT NULL);\n";

    private ScratchFolder _folder = null!;

    [SetUp]
    public void Folder() => _folder = new ScratchFolder();

    [TearDown]
    public void DeleteTheFolder() => _folder.Dispose();

    [Test]
    public void Drift_lists_what_only_staging_has_then_what_only_the_baseline_has()
    {
        var baseline = SqlServerStagingSource.Names([("table", "dbo.Customer"), ("column", "dbo.Customer.Name"), ("view", "dbo.Names"), ("index", "dbo.Customer.ix")]);
        var staging = SqlServerStagingSource.Names([("table", "dbo.Customer"), ("column", "dbo.Customer.Name"), ("table", "dbo.Scratch"), ("column", "dbo.Scratch.Id")]);

        Assert.That(baseline, Has.Count.EqualTo(3), "kinds outside the catalog fingerprint (indexes) are not compared");
        Assert.That(SqlServerStagingSource.Drift(baseline, staging), Is.EqualTo(new[]
        {
            "column dbo.Scratch.Id is on staging and not in the baseline",
            "table dbo.Scratch is on staging and not in the baseline",
            "view dbo.Names is in the baseline and not on staging",
        }));
        Assert.That(SqlServerStagingSource.Drift(baseline, baseline), Is.Empty);
    }

    [Test]
    public void The_rehearsed_script_is_the_plans_batches_in_one_transaction_in_a_file_a_failure_can_point_at()
    {
        var baseline = Build("baseline", Customer);
        var project = Build("project", Customer.Replace("NOT NULL);", "NOT NULL, Email nvarchar(320) NULL);"), "CREATE VIEW dbo.Names AS SELECT Name FROM dbo.Customer;\n");
        var plan = new SqlServerPlanner(new Reporter(TextWriter.Null)).Plan(new DeployPlanOptions(project, baseline, "ShopDb", []));
        var work = _folder.PathOf("obj/staging");

        var (file, script) = SchemaDeployScript.FromPlan(plan, "a test", new SchemaDeployScript.Options(project, false, SqlServerPlatform.Default, work), new Reporter(TextWriter.Null));

        Assert.That(file.Path, Is.EqualTo(Path.Combine(work, "R__deploy.sql")));
        Assert.That(file.ScriptName, Is.EqualTo(SqlServerReleaseWriter.DeployScriptName), "the same name as in the release package");
        Assert.That(script.InTransaction, Is.True, script.OutsideTransactionReason);
        Assert.That(script.Statements.Select(s => s.Text.Trim()), Is.EqualTo(plan.Batches.Select(b => b.Text.Trim())));
        Assert.That(File.ReadAllText(file.Path), Does.StartWith("-- a test (allowDataLoss: false)."));
    }

    [Test]
    public void A_dev_deploy_plans_from_a_dacpac_holding_the_history_table_so_it_is_not_dropped()
    {
        var project = Build("project", Customer);
        // The dev database as MigrationTasks leaves it: the project's objects plus the history table and its unique
        // index (no deploys table: only the production runner makes one).
        var dev = Build("dev", [Customer, .. SqlServerHistory.ModelScriptsFor(withDeploysTable: false)]);

        // DacFx as the online dev deploy calls it (with the planner's options), the dev database standing as target.
        var withHistory = HistorySchemaKeeper.WithLiveHistory(project, _folder.PathOf("obj/dev"), withDeploysTable: false);
        var kept = Script(withHistory, dev);
        var dropped = Script(project, dev);

        Assert.That(kept, Does.Not.Contain("DROP").And.Not.Contain("[migrationtasks]"), kept);
        Assert.That(dropped, Does.Contain("DROP TABLE [migrationtasks].[history]"), "without the keeper, DropObjectsNotInSource would drop the history");
        Assert.That(new SqlServerEngine().Prepare("history.sql", SqlServerHistory.EnsureSql).Statements, Has.Count.EqualTo(1),
            "the live DDL is the model's table behind IF guards, in one batch");
    }

    [Test]
    public void A_dev_deploy_keeps_a_deploys_table_where_the_production_runner_made_one_and_makes_none_elsewhere()
    {
        var project = Build("project", Customer);
        var deployed = Build("deployed", [Customer, .. SqlServerHistory.ModelScripts]);
        var dev = Build("dev", [Customer, .. SqlServerHistory.ModelScriptsFor(withDeploysTable: false)]);

        var kept = Script(HistorySchemaKeeper.WithLiveHistory(project, _folder.PathOf("obj/deployed"), withDeploysTable: true), deployed);
        var withoutIt = Script(HistorySchemaKeeper.WithLiveHistory(project, _folder.PathOf("obj/deployed-without"), withDeploysTable: false), deployed);
        var madeByMistake = Script(HistorySchemaKeeper.WithLiveHistory(project, _folder.PathOf("obj/dev"), withDeploysTable: true), dev);

        Assert.That(kept, Does.Not.Contain("DROP").And.Not.Contain("[migrationtasks]"), kept);
        Assert.That(withoutIt, Does.Contain("DROP TABLE [migrationtasks].[deploys]"), "the flag is what keeps it");
        Assert.That(madeByMistake, Does.Contain("CREATE TABLE [migrationtasks].[deploys]"), "the flag is what keeps a dev database without one");
    }

    private static string Script(string source, string target)
    {
        using var sourcePackage = DacPackage.Load(source);
        using var targetPackage = DacPackage.Load(target);
        return DacServices.GenerateDeployScript(sourcePackage, targetPackage, "ShopDb", SqlServerPlanner.DeployOptions(allowDataLoss: false));
    }

    private string Build(string name, params string[] files) => _folder.BuildDacpac(name, files);
}
