using MigrationTasks.Diagnostics;
using MigrationTasks.Migrations;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Planning;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.SqlServer.Scripts;

namespace MigrationTasks.SqlServer.Tests.Planning;

/// <summary>
/// plan.md's "If it fails" section, from real releases written offline: a deploy script DacFx writes for an added
/// view runs in one transaction, so a failure is a rollback; one with a full-text catalog cannot, so the release
/// marks it to run batch by batch and a failure means restoring the backup. The runner's own preparation of the
/// written script must agree with what plan.md says.
/// </summary>
public sealed class RollbackPlanTests
{
    private const string Product = "CREATE TABLE dbo.Product (ProductId int NOT NULL CONSTRAINT PK_Product PRIMARY KEY, Name nvarchar(200) NOT NULL);\n";

    private ScratchFolder _folder = null!;
    private string _baseline = "";
    private string _check = "";
    private string _verify = "";

    [OneTimeSetUp]
    public void BuildTheBaseline()
    {
        _folder = new ScratchFolder();
        _baseline = Build("baseline", new() { ["Product.sql"] = Product }).Dacpac;
        _check = _folder.Write("Checks/names_are_set.sql", "SELECT ProductId FROM dbo.Product WHERE Name = N'';\n");
        _verify = _folder.Write("Verify/names_are_listed.sql", "SELECT ProductId FROM dbo.Product WHERE ProductId NOT IN (SELECT ProductId FROM dbo.ProductNames);\n");
    }

    [OneTimeTearDown]
    public void DeleteTheFolder() => _folder.Dispose();

    [Test]
    public void A_transactional_deploy_script_is_rolled_back_with_its_verification_and_never_restored_over_later_writes()
    {
        var project = Build("view", new() { ["Product.sql"] = Product, ["ProductNames.sql"] = "CREATE VIEW dbo.ProductNames AS SELECT ProductId, Name FROM dbo.Product;\n" });

        var (plan, script) = Release(project, "publish-view");

        Assert.That(script.InTransaction, Is.True, "the runner runs it in one transaction");
        var section = Section(plan);
        Assert.That(section, Does.Contain("runs in **one transaction**").And.Contain("production is left as it was").And.Contain("the backup is not needed"));
        Assert.That(section, Does.Not.Contain("outside a transaction"));
        Assert.That(section, Does.Contain("and the 1 Verify/ query run inside it, before it commits"));
        Assert.That(section, Does.Contain("nothing is restored automatically (exit code 3, MIG6024) unless the deploy was run with `--discard-later-writes`"));
        Assert.That(section, Does.Contain("a failing check of the 1 in Checks/"));
        Assert.That(section, Does.Contain("logins and other server objects"));
        Assert.That(plan, Does.Contain($"{script.Statements.Count} batch(es) in order, in one transaction"));
    }

    [Test]
    public void A_full_text_catalog_makes_the_script_run_batch_by_batch_and_a_failure_needs_the_backup()
    {
        var project = Build("fulltext", new()
        {
            ["Product.sql"] = Product,
            ["ProductNames.sql"] = "CREATE VIEW dbo.ProductNames AS SELECT ProductId, Name FROM dbo.Product;\n",
            ["Search.sql"] = "CREATE FULLTEXT CATALOG ProductText;\nGO\nCREATE FULLTEXT INDEX ON dbo.Product (Name) KEY INDEX PK_Product ON ProductText;\n",
        });

        var (plan, script) = Release(project, "publish-fulltext");

        // Without the marker the runner would refuse the file (MIG2005: it mixes both kinds of statement).
        Assert.That(script.InTransaction, Is.False);
        Assert.That(script.Text, Does.Contain("\n" + TSqlTransactionRules.NoTransactionMarker + "\n"));
        var section = Section(plan);
        Assert.That(section, Does.Match(@"runs \*\*outside a transaction\*\*, batch by batch \(\d+ batch\(es\)\), because it holds CREATE FULLTEXT CATALOG \(batch \d+, line \d+\)"));
        Assert.That(section, Does.Contain("Restoring the backup taken at step 3 (`RESTORE DATABASE … FROM DISK = … WITH REPLACE, CHECKSUM`"));
        Assert.That(section, Does.Contain("restores only when the deploy was run with `--discard-later-writes` (exit code 1)"));
        Assert.That(section, Does.Not.Contain("the backup is not needed"));
        var line = int.Parse(System.Text.RegularExpressions.Regex.Match(section, @"CREATE FULLTEXT CATALOG \(batch \d+, line (\d+)\)").Groups[1].Value);
        Assert.That(script.Text.Split('\n')[line - 1], Does.StartWith("CREATE FULLTEXT CATALOG"), "the line is the written script's");
    }

    [Test]
    public void The_section_names_what_the_runner_does_after_the_commit_without_verify_queries()
    {
        var section = RollbackPlan.Section(4, null, checks: 0, verifies: 0);

        Assert.That(section, Does.StartWith(RollbackPlan.Heading));
        Assert.That(section, Does.Contain("This release has no Verify/ queries").And.Contain("catalog fingerprint"));
        Assert.That(RollbackPlan.Section(4, "ALTER DATABASE (batch 2, line 7)", 0, 0), Does.Contain("This release has no Verify/ queries"));
        Assert.That(section, Does.Contain("(wrong pre-state, the deploy lock, the backup)"));
        Assert.That(RollbackPlan.Section(4, "ALTER DATABASE (batch 2, line 7)", 0, 2), Does.Contain("because it holds ALTER DATABASE (batch 2, line 7)").And.Contain("runs the 2 Verify/ queries"));
    }

    [Test]
    public void A_script_that_names_its_database_records_the_name_the_deploy_insists_on()
    {
        var filegroup = Build("filegroup", new()
        {
            ["Product.sql"] = Product,
            ["Storage/Archive.sql"] = "ALTER DATABASE [$(DatabaseName)] ADD FILEGROUP [Archive];\n",
        });
        var plain = Build("plain", new() { ["Product.sql"] = Product, ["ProductNames.sql"] = "CREATE VIEW dbo.ProductNames AS SELECT ProductId, Name FROM dbo.Product;\n" });

        var (filegroupPlan, filegroupScript) = Release(filegroup, "publish-filegroup");
        var (plainPlan, _) = Release(plain, "publish-plain");

        Assert.That(filegroupScript.Text, Does.Contain("[ShopDb]"), "DacFx's script names the database it was planned for");
        Assert.That(ExpectedDatabaseName("publish-filegroup"), Is.EqualTo("ShopDb"));
        Assert.That(filegroupPlan, Does.Contain("- Database: the script names `[ShopDb]`"));
        Assert.That(ExpectedDatabaseName("publish-plain"), Is.Null);
        Assert.That(plainPlan, Does.Contain("the script does not name its database"));
    }

    private string? ExpectedDatabaseName(string publishFolder)
    {
        using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder.PathOf(publishFolder), ReleaseLayout.FolderName, ReleaseLayout.ManifestName)));
        return manifest.RootElement.GetProperty("expectedPreState").TryGetProperty("databaseName", out var name) ? name.GetString() : null;
    }

    /// <summary>Writes the release and returns its plan.md and R__deploy.sql as the production runner prepares it.</summary>
    private (string Plan, MigrationTasks.Engines.PreparedScript Script) Release(BuiltProject project, string publishFolder)
    {
        var publish = _folder.PathOf(publishFolder);
        var output = new StringWriter();
        var manifest = new SqlServerReleaseWriter(new Reporter(output)).Write(new SqlServerReleaseOptions(
            new ReleaseOptions([], [_check], [_verify], publish, "Shop", "1.0.0", _folder.PathOf("obj"), _baseline),
            project.Dacpac,
            "ShopDb",
            [.. project.Files.Values]));
        Assert.That(manifest, Is.Not.Null, output.ToString());
        var release = Path.Combine(publish, ReleaseLayout.FolderName);
        var script = Path.Combine(release, ReleaseLayout.MigrationsFolder, SqlServerReleaseWriter.DeployScriptName);
        var (_, prepared) = MigrationSource.Prepare(new SqlServerEngine(), [script]).Single();
        return (File.ReadAllText(Path.Combine(release, ReleaseLayout.PlanName)), prepared);
    }

    private BuiltProject Build(string name, Dictionary<string, string> schema) => _folder.BuildDacpac(name, schema);

    private static string Section(string plan)
    {
        var start = plan.IndexOf(RollbackPlan.Heading, StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThan(0), plan);
        return plan[start..];
    }
}
