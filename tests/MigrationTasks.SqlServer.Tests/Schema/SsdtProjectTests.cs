using System.IO.Compression;
using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;
using Microsoft.SqlServer.Dac;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Tests.Schema;

/// <summary>
/// An SSDT project moves in with no edit to its .sql files: its Build items, as the .sqlproj lists them, compile into
/// a dacpac that holds every table, view, procedure and function they define, with its deployment scripts expanded.
/// </summary>
public sealed partial class SsdtProjectTests
{
    private const int ObjectsPerKind = 75; // 300 generated objects, plus the special ones

    private ScratchFolder _folder = null!;
    private SsdtProject _project = null!;
    private DacpacBuildResult _result = null!;
    private string _log = "";
    private string _output = "";

    [OneTimeSetUp]
    public void BuildTheProjectOnce()
    {
        _folder = new ScratchFolder();
        _project = SsdtProject.Generate(_folder, ObjectsPerKind);
        _output = _folder.PathOf("bin/SsdtShop.dacpac");
        using var log = new StringWriter();
        _result = new DacpacBuilder(new Reporter(log)).Build(new DacpacBuildOptions(
            _project.BuildItems.Select(_project.PathOf).ToList(),
            _output,
            _project.PathOf(_project.PreDeployItem),
            _project.PathOf(_project.PostDeployItem),
            SqlServerPlatform.Parse("Microsoft.Data.Tools.Schema.Sql.Sql160DatabaseSchemaProvider"),
            "SsdtShop",
            SqlCmdVariables: _project.SqlCmdVariables));
        _log = log.ToString();
    }

    [OneTimeTearDown]
    public void DeleteTheFolder() => _folder.Dispose();

    [Test]
    public void It_builds_without_errors()
    {
        Assert.That(_result.Errors.Select(e => e.ToString()), Is.Empty, _log);
        Assert.That(_result.Written, Is.True, _log);
    }

    [Test]
    public void Every_table_view_procedure_and_function_of_its_Build_items_is_in_the_dacpac()
    {
        var defined = _project.BuildItems
            .Select(item => File.ReadAllText(_folder.PathOf(item.Replace('\\', '/')).Replace("TABLE007", "Table007", StringComparison.Ordinal)))
            .SelectMany(text => CreatedObject().Matches(text).Select(m => m.Groups["name"].Value))
            .ToList();
        Assert.That(defined, Has.Count.GreaterThan(4 * ObjectsPerKind));

        using var model = TSqlModel.LoadFromDacpac(_output, new ModelLoadOptions(DacSchemaModelStorageType.Memory, loadAsScriptBackedModel: false));
        var built = model.GetObjects(
                DacQueryScopes.UserDefined,
                Table.TypeClass,
                View.TypeClass,
                Procedure.TypeClass,
                ScalarFunction.TypeClass,
                TableValuedFunction.TypeClass)
            .Select(o => o.Name.ToString());

        Assert.That(built, Is.EquivalentTo(defined));
        Assert.That(model.GetObjects(DacQueryScopes.UserDefined, Filegroup.TypeClass).Select(o => o.Name.ToString()), Is.SupersetOf(new[] { "[InMemory]", "[Archive2020]", "[Archive2021]" }));
        Assert.That(model.GetObjects(DacQueryScopes.UserDefined, PartitionScheme.TypeClass).Select(o => o.Name.ToString()), Is.EqualTo(new[] { "[psOrderYear]" }));
        Assert.That(model.GetObjects(DacQueryScopes.UserDefined, SecurityPolicy.TypeClass).Select(o => o.Name.ToString()), Is.EqualTo(new[] { "[Security].[TenantFilter]" }));
        Assert.That(model.GetObjects(DacQueryScopes.UserDefined, ColumnStoreIndex.TypeClass).Select(o => o.Name.ToString()), Is.EqualTo(new[] { "[dbo].[SalesFact].[CCI_SalesFact]" }));
        var sessionCache = model.GetObject(Table.TypeClass, new ObjectIdentifier("dbo", "SessionCache"), DacQueryScopes.UserDefined);
        Assert.That(sessionCache.GetProperty<bool>(Table.MemoryOptimized), Is.True);
        var price = model.GetObject(Table.TypeClass, new ObjectIdentifier("dbo", "Price"), DacQueryScopes.UserDefined);
        Assert.That(price.GetReferenced(Table.TemporalSystemVersioningHistoryTable).Single().Name.ToString(), Is.EqualTo("[dbo].[PriceHistory]"));
    }

    [Test]
    public void The_deployment_scripts_go_into_the_dacpac_with_includes_inlined_and_variables_substituted()
    {
        using var dacpac = ZipFile.OpenRead(_output);
        var pre = new StreamReader(dacpac.GetEntry("predeploy.sql")!.Open()).ReadToEnd();
        var post = new StreamReader(dacpac.GetEntry("postdeploy.sql")!.Open()).ReadToEnd();

        Assert.That(pre, Does.Contain("PRINT N'Pre-deploying SsdtShop';"));
        Assert.That(pre[0], Is.EqualTo('/'), "the BOM is not carried into the dacpac");
        Assert.That(post, Does.Contain("MERGE INTO [dbo].[Table001] AS t"));
        Assert.That(post, Does.Contain("PRINT N'Currencies';"));
        Assert.That(post, Does.Contain("UPDATE [dbo].[Table002] SET [Amount] = 1"));
        Assert.That(post, Does.Contain("PRINT N'Deployed SsdtShop in test by ops';"));
        Assert.That(post, Does.Contain("SELECT * FROM [$(TableName)]"), "the template's comment is left as it was");
        Assert.That(post.Split('\n').Where(line => line.StartsWith(':')), Is.Empty, "no SQLCMD command is left");
        Assert.That(post.IndexOf('\uFEFF', StringComparison.Ordinal), Is.EqualTo(-1), "the included file's BOM is not carried in");
    }

    [Test]
    public void The_Build_item_whose_case_differs_is_used_with_MIG2024_naming_both_paths()
    {
        Assert.That(_result.Warnings.Where(w => w.Code == DiagnosticCodes.PathCaseMismatch).Select(w => w.ToString()), Is.EqualTo(new[]
        {
            $"{_project.MisspelledFile}: warning MIG2024: '{_folder.PathOf("dbo/Tables/TABLE007.sql")}' does not exist, but '{_project.MisspelledFile}' does, " +
            "which differs only in case: using it. Change the item to the file's exact name, because file names are case-sensitive on Linux.",
        }));
    }

    [Test]
    public void A_syntax_error_in_an_included_file_is_reported_at_that_file_and_line()
    {
        using var folder = new ScratchFolder();
        var included = folder.Write("Scripts/Seed Data/Seed.sql", "PRINT 'seed';\n\nINSERT INTO dbo.T VALUES (1,, 2);\n");
        var post = folder.Write("Scripts/Script.PostDeployment.sql", "PRINT 'post';\n:r \".\\Seed Data\\Seed.sql\"\n");
        var output = folder.PathOf("bin/Db.dacpac");
        using var log = new StringWriter();

        var result = new DacpacBuilder(new Reporter(log)).Build(new DacpacBuildOptions(
            [folder.Write("Schema/T.sql", "CREATE TABLE dbo.T (A int, B int, C int);\n")], output, PostDeploymentScript: post));

        Assert.That(result.Errors.Select(e => (e.Code, e.File, e.Line)), Is.EqualTo(new[] { (DiagnosticCodes.PlatformScriptSyntax, included, 3) }), log.ToString());
        Assert.That(result.Written, Is.False);
    }

    // CREATE TABLE/VIEW/PROCEDURE/FUNCTION [schema].[name], as every object of the project is written.
    [GeneratedRegex(@"CREATE\s+(?:TABLE|VIEW|PROCEDURE|FUNCTION)\s+(?<name>\[[^\]]+\]\.\[[^\]]+\])")]
    private static partial Regex CreatedObject();
}
