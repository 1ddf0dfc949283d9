using System.Text.Json;
using MigrationTasks.Core.Tests.Release;
using MigrationTasks.Diagnostics;
using MigrationTasks.Migrations;
using MigrationTasks.Release;
using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Live;
using MigrationTasks.SqlServer.Planning;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Tests.Planning;

/// <summary>
/// Real DacFx, offline: dacpacs built from small Schema/ folders, planned against a baseline dacpac built from an
/// older Schema/. Each case builds one dacpac (one to two seconds).
/// </summary>
public sealed class SqlServerPlannerTests
{
    private const string Customer =
        "CREATE TABLE dbo.Customer\n(\n    CustomerId int NOT NULL PRIMARY KEY,\n    Name nvarchar(200) NOT NULL,\n    Phone nvarchar(50) NULL\n);\n";

    private const string Product = "CREATE TABLE dbo.Product (ProductId int NOT NULL PRIMARY KEY, Sku varchar(32) NOT NULL);\n";

    private const string PostDeployment = "PRINT N'deployed $(DatabaseName)';\n";

    private ScratchFolder _folder = null!;
    private string _baseline = "";

    [OneTimeSetUp]
    public void BuildTheBaseline()
    {
        _folder = new ScratchFolder();
        _baseline = Build("baseline", new() { ["Customer.sql"] = Customer, ["Product.sql"] = Product }).Dacpac;
    }

    [OneTimeTearDown]
    public void DeleteTheFolder() => _folder.Dispose();

    [Test]
    public void The_deploy_script_against_the_baseline_adds_the_new_column_view_and_procedure_and_nothing_else()
    {
        var project = Build("additive", new()
        {
            ["Customer.sql"] = Customer.Replace("Phone nvarchar(50) NULL", "Phone nvarchar(50) NULL,\n    Email nvarchar(320) NULL"),
            ["Product.sql"] = Product,
            ["CustomerNames.sql"] = "CREATE VIEW dbo.CustomerNames AS SELECT CustomerId, Name FROM dbo.Customer;\n",
            ["GetCustomer.sql"] = "CREATE PROCEDURE dbo.GetCustomer @Id int AS SELECT CustomerId, Name FROM dbo.Customer WHERE CustomerId = @Id;\n",
        });

        var plan = Plan(project);

        Assert.That(plan.Findings, Is.Empty);
        Assert.That(plan.Report.Operations.Select(o => $"{o.Kind} {o.Name}"), Is.EquivalentTo(new[]
        {
            "Alter [dbo].[Customer]", "Create [dbo].[CustomerNames]", "Create [dbo].[GetCustomer]",
        }));
        var batches = plan.Batches.Select(b => b.Text).ToList();
        Assert.That(batches, Has.Some.Matches<string>(b => b.Contains("ALTER TABLE [dbo].[Customer]") && b.Contains("ADD [Email] NVARCHAR (320) NULL")));
        Assert.That(batches, Has.Some.StartsWith("CREATE VIEW dbo.CustomerNames"));
        Assert.That(batches, Has.Some.StartsWith("CREATE PROCEDURE dbo.GetCustomer"));
        Assert.That(batches, Has.None.Contains("Product"), "an unchanged table is not touched");
    }

    [Test]
    public void The_batches_hold_no_sqlcmd_syntax_and_the_database_name_is_substituted()
    {
        var plan = Plan(Build("sqlcmd", new() { ["Customer.sql"] = Customer, ["Product.sql"] = Product, ["Tag.sql"] = "CREATE TABLE dbo.Tag (TagId int NOT NULL);\n" }));

        Assert.That(plan.Script, Does.Contain(":setvar DatabaseName").And.Contain("$(__IsSqlCmdEnabled)"), "DacFx wrote SQLCMD syntax to remove");
        Assert.That(plan.Batches, Is.Not.Empty);
        foreach (var batch in plan.Batches.Select(b => b.Text))
        {
            Assert.That(batch, Does.Not.Contain("$(").And.Not.Contain(":setvar").And.Not.Contain(":on error").And.Not.StartWith("USE "));
            Assert.That(batch.Trim(), Does.Not.Match("(?im)^GO$"));
        }

        Assert.That(plan.Batches.Select(b => b.Text), Has.Some.Contains("PRINT N'deployed ShopDb'"));
        Assert.That(plan.Batches.Select(b => b.Text), Has.Some.Contains("CREATE TABLE [dbo].[Tag]"));
    }

    [Test]
    public void Dropping_a_column_the_baseline_has_is_a_data_loss_error_naming_the_table_column_and_schema_file()
    {
        var project = Build("dropcolumn", new() { ["Customer.sql"] = Customer.Replace(",\n    Phone nvarchar(50) NULL", ""), ["Product.sql"] = Product });

        var plan = Plan(project);

        var finding = plan.Findings.Single();
        Assert.That(finding.Code, Is.EqualTo(DiagnosticCodes.DataLossDrop));
        Assert.That(finding.IsError, Is.True);
        Assert.That(finding.Message, Does.Contain("[dbo].[Customer].[Phone]").And.Contain("MigrationAllowDataLoss=true"));
        Assert.That(finding.File, Is.EqualTo(project.Files["Customer.sql"]));
        Assert.That(finding.Line, Is.EqualTo(1));
        Assert.That(plan.Batches.Select(b => b.Text), Has.Some.Contains("RAISERROR (N'Rows were detected"), "the script itself stops on a table with rows");
    }

    [Test]
    public void With_data_loss_allowed_the_drop_is_a_warning_and_the_script_has_no_guard()
    {
        var project = Build("dropallowed", new() { ["Customer.sql"] = Customer.Replace(",\n    Phone nvarchar(50) NULL", ""), ["Product.sql"] = Product });

        var plan = Plan(project, allowDataLoss: true);

        Assert.That(plan.Findings.Single().Code, Is.EqualTo(DiagnosticCodes.DataLossDrop));
        Assert.That(plan.Findings.Single().IsError, Is.False);
        Assert.That(plan.Batches.Select(b => b.Text), Has.Some.Contains("DROP COLUMN [Phone]"));
        Assert.That(plan.Batches.Select(b => b.Text), Has.None.Contains("RAISERROR"));
    }

    [Test]
    public void A_table_only_the_baseline_has_is_dropped_with_a_data_loss_finding_on_the_baseline()
    {
        var plan = Plan(Build("droptable", new() { ["Customer.sql"] = Customer }));

        var finding = plan.Findings.Single();
        Assert.That(finding.Code, Is.EqualTo(DiagnosticCodes.DataLossDrop));
        Assert.That(finding.Message, Does.Contain("[dbo].[Product]"));
        Assert.That(finding.File, Is.EqualTo(_baseline));
    }

    [Test]
    public void A_narrowing_type_change_and_a_not_null_column_without_default_are_findings_at_the_table()
    {
        var project = Build("narrowing", new()
        {
            ["Customer.sql"] = Customer.Replace("Name nvarchar(200)", "Name nvarchar(50)").Replace("Phone nvarchar(50) NULL", "Phone nvarchar(50) NULL,\n    Tier int NOT NULL"),
            ["Product.sql"] = Product,
        });

        var plan = Plan(project);

        var narrowing = plan.Findings.Single(f => f.Code == DiagnosticCodes.DataLossNarrowing);
        Assert.That(narrowing.IsError, Is.True);
        Assert.That(narrowing.Message, Does.Contain("[dbo].[Customer].[Name]").And.Contain("NVARCHAR (50)"));
        Assert.That(narrowing.File, Is.EqualTo(project.Files["Customer.sql"]));
        var notNull = plan.Findings.Single(f => f.Code == DiagnosticCodes.NotNullWithoutDefault);
        Assert.That(notNull.IsError, Is.False);
        Assert.That(notNull.Message, Does.Contain("[dbo].[Customer].[Tier]"));
        Assert.That(Plan(project, findingsAsErrors: true, allowDataLoss: true).Findings.All(f => f.IsError), Is.True);
    }

    [Test]
    public void A_column_added_in_the_middle_rebuilds_the_table_which_is_a_warning_at_its_file()
    {
        var project = Build("rebuild", new()
        {
            ["Customer.sql"] = Customer.Replace("    Name nvarchar(200) NOT NULL,", "    Tier int NULL,\n    Name nvarchar(200) NOT NULL,"),
            ["Product.sql"] = Product,
        });

        var plan = Plan(project);

        var rebuild = plan.Findings.Single(f => f.Code == DiagnosticCodes.TableRebuild);
        Assert.That(rebuild.IsError, Is.False);
        Assert.That(rebuild.Message, Does.StartWith("table rebuild [dbo].[Customer]"));
        Assert.That(rebuild.File, Is.EqualTo(project.Files["Customer.sql"]));
        Assert.That(plan.Report.Operations.Select(o => o.Kind), Has.Member("TableRebuild"));
    }

    [Test]
    public void A_release_is_not_written_when_data_loss_is_not_allowed_and_records_it_when_it_is()
    {
        var project = Build("release-loss", new() { ["Customer.sql"] = Customer.Replace(",\n    Phone nvarchar(50) NULL", ""), ["Product.sql"] = Product });
        var publish = _folder.PathOf("publish-loss");

        var (refused, refusedLog) = Package(project, publish, allowDataLoss: false);
        Assert.That(refused, Is.Null, refusedLog);
        Assert.That(refusedLog, Does.Contain("error MIG4010").And.Contain("[dbo].[Customer].[Phone]"));
        Assert.That(Directory.Exists(Path.Combine(publish, "release")), Is.False);

        var (allowed, allowedLog) = Package(project, publish, allowDataLoss: true);
        Assert.That(allowed, Is.Not.Null, allowedLog);
        Assert.That(allowed!.AllowDataLoss, Is.True);
        var manifest = File.ReadAllText(Path.Combine(publish, "release", "manifest.json"));
        Assert.That(JsonDocument.Parse(manifest).RootElement.GetProperty("allowDataLoss").GetBoolean(), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(publish, "release", "migrations", SqlServerReleaseWriter.DeployScriptName)), Does.Contain("DROP COLUMN [Phone]"));
    }

    [Test]
    public void A_signed_sql_server_release_verifies_and_a_flipped_byte_is_refused()
    {
        var project = Build("release", new()
        {
            ["Customer.sql"] = Customer,
            ["Product.sql"] = Product,
            ["CustomerNames.sql"] = "CREATE VIEW dbo.CustomerNames AS SELECT CustomerId, Name FROM dbo.Customer;\n",
        });
        var publish = _folder.PathOf("publish");
        using var certificate = TestCertificates.Rsa("SqlShop Release Signer");
        var pfx = TestCertificates.WritePfx(certificate, _folder.PathOf("signer.pfx"), null);
        var trust = TestCertificates.WritePublicPem(certificate, _folder.PathOf("signer.pem"));

        var (manifest, log) = Package(project, publish, allowDataLoss: false, pfx);

        Assert.That(manifest, Is.Not.Null, log);
        Assert.That(manifest!.Engine, Is.EqualTo("SqlServer"));
        Assert.That(manifest.AllowDataLoss, Is.False);
        Assert.That(manifest.ExpectedState, Is.EqualTo(ExpectedStateKind.CatalogFingerprint));
        Assert.That(manifest.ExpectedPreState.History, Is.Null, "a dacpac baseline knows no history");
        Assert.That((manifest.ExpectedPreState.SchemaHash, manifest.ExpectedPostState!.SchemaHash), Is.EqualTo(((string?)null, (string?)null)), "no snapshot hash: no server reports a model's");
        Assert.That(manifest.ExpectedPreState.ModelHash, Is.EqualTo(DacpacModelHash.Of(_baseline, DiagnosticCodes.BaselineModelUnreadable)));
        Assert.That(manifest.ExpectedPostState.ModelHash, Is.EqualTo(DacpacModelHash.Of(project.Dacpac, DiagnosticCodes.ModelMissing)));
        Assert.That(manifest.ExpectedPreState.CatalogFingerprint, Is.EqualTo(DacpacCatalog.Fingerprint(_baseline, "X")));
        Assert.That(manifest.ExpectedPostState.CatalogFingerprint, Is.EqualTo(DacpacCatalog.Fingerprint(project.Dacpac, "X")));
        Assert.That(manifest.Files.Select(f => f.Path), Is.EquivalentTo(new[]
        {
            "baseline.dacpac", "deploy-report.xml", "migrations/R__deploy.sql", "plan.md", "project.dacpac",
        }));
        var release = Path.Combine(publish, "release");
        var verified = ReleaseVerifier.Verify(release, trust, allowUnsigned: false);
        Assert.That(verified.Passed, Is.True, string.Join("\n", verified.Diagnostics));

        var script = Path.Combine(release, "migrations", "R__deploy.sql");
        // The runner reads it as any release's migration: a repeatable script, split into the same batches, in one transaction.
        var (file, prepared) = MigrationSource.Prepare(new SqlServerEngine(), [script]).Single();
        Assert.That(file.Kind, Is.EqualTo(MigrationKind.Repeatable));
        Assert.That(prepared.InTransaction, Is.True);
        Assert.That(prepared.Statements.Select(s => s.Text), Has.Some.StartsWith("CREATE VIEW dbo.CustomerNames"));
        Assert.That(prepared.Statements.Select(s => s.Text), Has.None.Contains("$(").And.None.Contains(":setvar"));
        var bytes = File.ReadAllBytes(script);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(script, bytes);
        var tampered = ReleaseVerifier.Verify(release, trust, allowUnsigned: false);
        Assert.That(tampered.Passed, Is.False);
        Assert.That(tampered.Diagnostics.Select(d => d.Code), Is.EqualTo(new[] { DiagnosticCodes.ReleaseFileChanged }));
    }

    [Test]
    public void The_history_schema_production_has_is_not_dropped()
    {
        var production = Build("production-with-history", new()
        {
            ["Customer.sql"] = Customer,
            ["Product.sql"] = Product,
            ["History.sql"] = "CREATE SCHEMA migrationtasks;\nGO\nCREATE TABLE migrationtasks.history (id bigint IDENTITY(1, 1) NOT NULL PRIMARY KEY, script nvarchar(260) NOT NULL);\n",
        }).Dacpac;
        var project = Build("beside-history", new() { ["Customer.sql"] = Customer, ["Product.sql"] = Product, ["Tag.sql"] = "CREATE TABLE dbo.Tag (TagId int NOT NULL);\n" });

        var plan = new SqlServerPlanner(new Reporter(TextWriter.Null)).Plan(new DeployPlanOptions(project.Dacpac, production, "ShopDb", [.. project.Files.Values]));

        Assert.That(plan.Findings, Is.Empty);
        Assert.That(plan.Report.Operations.Select(o => $"{o.Kind} {o.Name}"), Is.EqualTo(new[] { "Create [dbo].[Tag]" }));
        Assert.That(plan.Batches.Select(b => b.Text), Has.Some.Contains("PRINT N'deployed ShopDb'"), "the post-deployment script is still there");
    }

    [Test]
    public void The_history_index_and_deploys_table_production_has_are_planned_unchanged()
    {
        var history = SqlServerHistory.ModelScripts.Select((script, i) => (Name: $"History{i}.sql", Script: script));
        var production = Build("production-with-deploys", new Dictionary<string, string>(history.ToDictionary(h => h.Name, h => h.Script))
        {
            ["Customer.sql"] = Customer,
            ["Product.sql"] = Product,
        }).Dacpac;
        var project = Build("beside-deploys", new() { ["Customer.sql"] = Customer, ["Product.sql"] = Product, ["Tag.sql"] = "CREATE TABLE dbo.Tag (TagId int NOT NULL);\n" });

        var plan = new SqlServerPlanner(new Reporter(TextWriter.Null)).Plan(new DeployPlanOptions(project.Dacpac, production, "ShopDb", [.. project.Files.Values]));

        Assert.That(plan.Findings, Is.Empty);
        Assert.That(plan.Report.Operations.Select(o => $"{o.Kind} {o.Name}"), Is.EqualTo(new[] { "Create [dbo].[Tag]" }));
        Assert.That(plan.Batches.Select(b => b.Text), Has.None.Contains("migrationtasks"));
    }

    [Test]
    public void DacFx_compares_CHECK_text_so_the_deploys_table_is_modelled_as_the_server_stores_its_IN_list()
    {
        // The live table made from an IN list, as PostgreSQL's DDL reads: the server would store ORs, DacFx sees a change.
        var inList = "state IN (" + string.Join(", ", DeployAttempt.StateNames.Select(n => $"N'{n}'")) + ")";
        var production = Build("production-in-list", new()
        {
            ["Customer.sql"] = Customer,
            ["Product.sql"] = Product,
            ["Schema.sql"] = SqlServerHistory.ModelScripts[0],
            ["Deploys.sql"] = SqlServerHistory.DeploysTableSql.Replace(string.Join(" OR ", DeployAttempt.StateNames.Select(n => $"[state]=N'{n}'")), inList, StringComparison.Ordinal),
        }).Dacpac;
        var project = Build("beside-in-list", new() { ["Customer.sql"] = Customer, ["Product.sql"] = Product });
        var source = HistorySchemaKeeper.WithLiveHistory(project.Dacpac, _folder.PathOf("obj/in-list"), withDeploysTable: true);

        using var sourcePackage = Microsoft.SqlServer.Dac.DacPackage.Load(source);
        using var targetPackage = Microsoft.SqlServer.Dac.DacPackage.Load(production);
        var script = Microsoft.SqlServer.Dac.DacServices.GenerateDeployScript(sourcePackage, targetPackage, "ShopDb", SqlServerPlanner.DeployOptions(allowDataLoss: false));

        Assert.That(script, Does.Contain("DROP CONSTRAINT [ck_migrationtasks_deploys_state]"));
    }

    [Test]
    public void The_catalog_fingerprint_of_a_dacpac_is_the_one_of_the_live_catalog_holding_the_same_objects()
    {
        var project = Build("fingerprint", new()
        {
            ["Sales.sql"] = "CREATE SCHEMA sales;\n",
            ["Order.sql"] = "CREATE TABLE sales.[Order] (OrderId int NOT NULL CONSTRAINT PK_Order PRIMARY KEY, Total AS (OrderId * 2));\n",
            ["Orders.sql"] = "CREATE VIEW sales.Orders AS SELECT OrderId FROM sales.[Order];\n",
            ["History.sql"] = "CREATE SCHEMA migrationtasks;\nGO\nCREATE TABLE migrationtasks.history (id int NOT NULL);\n",
        });

        Assert.That(DacpacCatalog.Objects(project.Dacpac, "X"), Is.EquivalentTo(new[]
        {
            ("schema", "sales"), ("table", "sales.Order"), ("column", "sales.Order.OrderId"), ("column", "sales.Order.Total"), ("view", "sales.Orders"),
        }));
        // What the live reader reports for the same database: constraints and definitions are not part of the fingerprint.
        var live = new MigrationTasks.Schema.SchemaSnapshot(
        [
            new("schema", "sales", "owner dbo"), new("table", "sales.Order", "table"), new("column", "sales.Order.OrderId", "int NOT NULL"),
            new("column", "sales.Order.Total", "AS ([OrderId]*(2))"), new("constraint", "sales.Order.PK_Order", "PRIMARY KEY CLUSTERED (OrderId)"),
            new("view", "sales.Orders", "CREATE VIEW sales.Orders AS SELECT OrderId FROM sales.[Order];"),
        ]);
        Assert.That(DacpacCatalog.Fingerprint(project.Dacpac, "X"), Is.EqualTo(MigrationTasks.Schema.CatalogFingerprint.Of(live)));
        Assert.That(DacpacCatalog.Fingerprint(_baseline, "X"), Is.Not.EqualTo(MigrationTasks.Schema.CatalogFingerprint.Of(live)));
    }

    [Test]
    public void The_same_schema_built_twice_has_the_same_model_hash()
    {
        var again = Build("baseline-again", new() { ["Customer.sql"] = Customer, ["Product.sql"] = Product }).Dacpac;
        Assert.That(DacpacModelHash.Of(again, "X"), Is.EqualTo(DacpacModelHash.Of(_baseline, "X")));
        Assert.That(File.ReadAllBytes(again), Is.Not.EqualTo(File.ReadAllBytes(_baseline)), "the dacpac files differ (Origin.xml); their models do not");
    }

    [Test]
    public void The_engine_opens_the_dacpac_as_a_model_project_whose_release_is_the_sql_server_release()
    {
        var project = Build("model-project", new()
        {
            ["Customer.sql"] = Customer,
            ["Product.sql"] = Product,
            ["CustomerNames.sql"] = "CREATE VIEW dbo.CustomerNames AS SELECT CustomerId, Name FROM dbo.Customer;\n",
        });
        var output = new StringWriter();
        var model = new SqlServerEngine().OpenModelProject(new ModelProjectOptions(
            project.Dacpac, _baseline, null, false, "Sql160", [.. project.Files.Values], false, _folder.PathOf("obj"), new Reporter(output)));

        var manifest = model.WriteRelease(new ReleaseOptions([], [], [], _folder.PathOf("model-publish"), "Shop", "1.2.0", _folder.PathOf("obj"), _baseline));

        Assert.That(manifest, Is.Not.Null, output.ToString());
        Assert.That(manifest!.ExpectedState, Is.EqualTo(ExpectedStateKind.CatalogFingerprint));
        Assert.That(manifest.ExpectedPostState!.CatalogFingerprint, Is.EqualTo(DacpacCatalog.Fingerprint(project.Dacpac, "X")));
        Assert.That(manifest.Files.Select(f => f.Path), Does.Contain("migrations/R__deploy.sql").And.Contain("project.dacpac"));
        Assert.That(model.StagingSource, Is.InstanceOf<SqlServerStagingSource>());
    }

    private (ReleaseManifest? Manifest, string Log) Package(BuiltProject project, string publish, bool allowDataLoss, string? certificate = null)
    {
        var output = new StringWriter();
        var manifest = new SqlServerReleaseWriter(new Reporter(output)).Write(new SqlServerReleaseOptions(
            new ReleaseOptions([], [], [], publish, "Shop", "1.2.0", _folder.PathOf("obj"), _baseline, certificate),
            project.Dacpac,
            "ShopDb",
            [.. project.Files.Values],
            allowDataLoss));
        return (manifest, output.ToString());
    }

    private BuiltProject Build(string name, Dictionary<string, string> schema) => _folder.BuildDacpac(name, schema, PostDeployment);

    private DeployPlan Plan(BuiltProject project, bool allowDataLoss = false, bool findingsAsErrors = false) =>
        new SqlServerPlanner(new Reporter(TextWriter.Null)).Plan(
            new DeployPlanOptions(project.Dacpac, _baseline, "ShopDb", [.. project.Files.Values], allowDataLoss, findingsAsErrors));
}
