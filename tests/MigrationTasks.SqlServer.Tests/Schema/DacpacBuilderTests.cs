using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;
using Microsoft.SqlServer.Dac;

namespace MigrationTasks.SqlServer.Tests.Schema;

/// <summary>
/// Real DacFx builds, offline. A model build costs one to two seconds, so the clean project is built once and each
/// problem case builds the smallest schema that shows it.
/// </summary>
public sealed class DacpacBuilderTests
{
    private const string Table = "CREATE TABLE dbo.Customer (CustomerId int NOT NULL PRIMARY KEY, Name nvarchar(100) NOT NULL);\n";

    // SELECT * at line 4, column 8: SR0001 ("Avoid SELECT * in stored procedures, views, and table-valued functions").
    private const string ViewWithSelectStar = "-- every customer\n\nCREATE VIEW dbo.AllCustomers AS\nSELECT * FROM dbo.Customer;\n";

    private ScratchFolder _folder = null!;
    private DacpacBuildResult _clean = null!;
    private string _cleanOutput = "";
    private string _cleanLog = "";

    [OneTimeSetUp]
    public void BuildTheCleanProjectOnce()
    {
        _folder = new ScratchFolder();
        _cleanOutput = _folder.PathOf("bin/Shop.dacpac");
        (_clean, _cleanLog) = Build(new DacpacBuildOptions(
            [
                _folder.Write("Schema/Customer.sql", Table),
                _folder.Write("Schema/AllCustomers.sql", ViewWithSelectStar),
                _folder.Write("Schema/Seed.sql", "CREATE TABLE dbo.Country (Code char(2) NOT NULL PRIMARY KEY);\nGO\nINSERT INTO dbo.Country VALUES ('NO');\n"),
            ],
            _cleanOutput,
            _folder.Write("Deploy/PreDeployment.sql", "PRINT 'before';"),
            _folder.Write("Deploy/PostDeployment.sql", "PRINT 'after';\n"),
            DatabaseName: "ShopDb"));
    }

    [OneTimeTearDown]
    public void DeleteTheFolder() => _folder.Dispose();

    [Test]
    public void The_clean_project_builds_a_dacpac_named_after_the_database_with_both_deployment_scripts_inside()
    {
        Assert.That(_clean.Written, Is.True, _cleanLog);
        Assert.That(_clean.Errors, Is.Empty);
        using var package = DacPackage.Load(_cleanOutput);
        Assert.That(package.Name, Is.EqualTo("ShopDb"));
        Assert.That(new StreamReader(package.PreDeploymentScript).ReadToEnd(), Is.EqualTo("PRINT 'before';" + Environment.NewLine));
        Assert.That(new StreamReader(package.PostDeploymentScript).ReadToEnd(), Is.EqualTo("PRINT 'after';\n"));
        Assert.That(_cleanLog, Does.Contain($"Built {_cleanOutput} (Sql160) from 3 schema file(s) with pre- and post-deployment scripts"));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(_cleanOutput)!), Is.EqualTo(new[] { _cleanOutput }), "no temporary file is left");
    }

    [Test]
    public void A_code_analysis_problem_is_a_warning_at_its_file_line_and_column_with_the_rule_id()
    {
        var view = _folder.PathOf("Schema/AllCustomers.sql");

        Assert.That(_clean.Warnings.Where(w => w.Code == DiagnosticCodes.CodeAnalysisProblem).Select(w => w.ToString()), Is.EqualTo(new[]
        {
            $"{view}(4,8): warning MIG2012: SR0001: The shape of the result set produced by a SELECT * statement will change if the underlying table or view structure changes.",
        }));
        Assert.That(_cleanLog, Does.Contain($"{view}(4,8): warning MIG2012: SR0001"), "reported as a canonical line");
    }

    [Test]
    public void A_statement_DacFx_cannot_model_is_a_warning_at_its_line()
    {
        var seed = _folder.PathOf("Schema/Seed.sql");

        Assert.That(_clean.Warnings.Where(w => w.Code == DiagnosticCodes.SchemaModelProblem).Select(w => w.ToString()), Is.EqualTo(new[]
        {
            $"{seed}(3,1): warning MIG2011: SQL70501: DML statements cannot be modeled. Data changes belong in Deploy/PostDeployment.sql.",
        }));
    }

    [Test]
    public void Syntax_errors_in_every_file_are_all_reported_at_file_line_and_column_and_no_dacpac_is_left()
    {
        using var folder = new ScratchFolder();
        var output = folder.Write("bin/Shop.dacpac", "a dacpac of an earlier build");
        var first = folder.Write("Schema/First.sql", "CREATE TABLE dbo.A (Id int,, Name int);\n");
        var fine = folder.Write("Schema/Fine.sql", Table);
        var second = folder.Write("Schema/Second.sql", "CREATE VIEW dbo.B AS\n\n    SELEC 1;\n");
        var post = folder.Write("Deploy/PostDeployment.sql", "PRINT 'done'\nUPDATE;\n");

        var (result, log) = Build(new DacpacBuildOptions([first, fine, second], output, PostDeploymentScript: post));

        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"{first}(1,28): error MIG2010: T-SQL syntax error (Sql160): Incorrect syntax near ','. (ScriptDom 46010)",
            $"{second}(3,5): error MIG2010: T-SQL syntax error (Sql160): Incorrect syntax near 'SELEC'. (ScriptDom 46010)",
            $"{post}(2,1): error MIG2010: T-SQL syntax error (Sql160): Incorrect syntax near 'UPDATE'. (ScriptDom 46010)",
        }));
        Assert.That(result.Written, Is.False);
        Assert.That(File.Exists(output), Is.False, "the earlier build's dacpac is deleted, so a stale one cannot be deployed");
        Assert.That(log, Does.Contain("No dacpac written: 3 error(s)."));
    }

    [Test]
    public void An_unresolved_reference_is_an_error_at_the_file_and_line_of_the_object_with_DacFx_number()
    {
        using var folder = new ScratchFolder();
        var table = folder.Write("Schema/Customer.sql", Table);
        var view = folder.Write("Schema/Orders.sql", "-- orders with their customer\n\nCREATE VIEW dbo.CustomerOrders\nAS\nSELECT c.Name, o.OrderId\nFROM dbo.Customer AS c\nJOIN dbo.Orders AS o ON o.CustomerId = c.CustomerId;\n");
        var output = folder.PathOf("bin/Shop.dacpac");

        var (result, _) = Build(new DacpacBuildOptions([table, view], output));

        Assert.That(result.Written, Is.False);
        Assert.That(File.Exists(output), Is.False);
        var errors = result.Errors.ToList();
        Assert.That(errors, Is.Not.Empty);
        Assert.That(errors.Select(e => (e.Code, e.File, e.Line, e.Column)).Distinct(), Is.EqualTo(new[] { (DiagnosticCodes.SchemaModelProblem, view, 3, 1) }));
        Assert.That(errors.Select(e => e.Message), Has.Some.StartsWith("SQL71501: View: [dbo].[CustomerOrders] has an unresolved reference to object [dbo].[Orders]."));
    }

    [Test]
    public void A_rule_promoted_with_plus_bang_is_an_error_and_no_dacpac_is_written()
    {
        using var folder = new ScratchFolder();
        var view = folder.Write("Schema/AllCustomers.sql", ViewWithSelectStar);
        var output = folder.PathOf("bin/Shop.dacpac");

        var (result, _) = Build(new DacpacBuildOptions([folder.Write("Schema/Customer.sql", Table), view], output, AnalysisRules: CodeAnalysisRules.Parse("+!SR0001")));

        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"{view}(4,8): error MIG2012: SR0001: The shape of the result set produced by a SELECT * statement will change if the underlying table or view structure changes. (an error by MigrationCodeAnalysisRules)",
        }));
        Assert.That(result.Written, Is.False);
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void A_rule_disabled_with_minus_reports_nothing()
    {
        using var folder = new ScratchFolder();
        var output = folder.PathOf("bin/Shop.dacpac");

        var (result, _) = Build(new DacpacBuildOptions(
            [folder.Write("Schema/Customer.sql", Table), folder.Write("Schema/AllCustomers.sql", ViewWithSelectStar)],
            output,
            AnalysisRules: CodeAnalysisRules.Parse("-SR0001")));

        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Written, Is.True);
        Assert.That(File.Exists(output), Is.True);
    }

    [Test]
    public void A_warning_the_project_lists_in_WarningsAsErrors_writes_no_dacpac()
    {
        using var folder = new ScratchFolder();
        var output = folder.PathOf("bin/Shop.dacpac");

        var (result, _) = Build(new DacpacBuildOptions(
            [folder.Write("Schema/Customer.sql", Table), folder.Write("Schema/AllCustomers.sql", ViewWithSelectStar)],
            output,
            Warnings: new WarningPolicy(warningsAsErrors: "CS1591;MIG2012")));

        Assert.That(result.Errors.Select(e => e.Code), Is.EqualTo(new[] { DiagnosticCodes.CodeAnalysisProblem }));
        Assert.That(result.Written, Is.False);
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void An_unreadable_schema_file_is_MIG2006_and_no_model_is_built()
    {
        using var folder = new ScratchFolder();
        var missing = folder.PathOf("Schema/Gone.sql");

        var (result, _) = Build(new DacpacBuildOptions([missing], folder.PathOf("bin/Shop.dacpac")));

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.File)), Is.EqualTo(new[] { (DiagnosticCodes.UnreadableFile, (string?)missing) }));
        Assert.That(result.Written, Is.False);
    }

    private static (DacpacBuildResult Result, string Log) Build(DacpacBuildOptions options)
    {
        var log = new StringWriter();
        var result = new DacpacBuilder(new Reporter(log)).Build(options);
        return (result, log.ToString());
    }
}
