using MigrationTasks.Migrations;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.Testing;
using Microsoft.SqlServer.Dac;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Tests.Samples;

/// <summary>
/// The SqlShop sample's Tests/, Checks/ and Verify/ cannot run here (no SQL Server), so they are proven offline as
/// far as DacFx allows: each parses, runs in the transaction the runner rolls back, and every object and column it
/// names exists in the schema it runs against. Tests/ and Verify/ run on the new schema (Schema/); Checks/ run before
/// the deploy, so on production's schema as it is now (Baseline/production.dacpac). Each query is modelled as the
/// body of a procedure, which takes any statements a zero-rows query may hold (DECLARE, INSERT, EXEC, SELECT), and
/// DacFx's validation reports every name it cannot resolve (SQL71501/SQL71502).
/// </summary>
public sealed class SqlShopQueryTests
{
    private static readonly string Sample = RepositoryPaths.SampleProject("SqlShop");

    private static IEnumerable<TestCaseData> Queries(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Sample, folder), "*.sql")
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => new TestCaseData(p).SetArgDisplayNames($"{folder}/{Path.GetFileName(p)}"));

    private static IEnumerable<TestCaseData> OnTheNewSchema() => Queries("Tests").Concat(Queries("Verify"));

    private static IEnumerable<TestCaseData> OnProductionBeforeTheDeploy() => Queries("Checks");

    [Test]
    public void The_sample_has_tests_checks_and_verifications()
    {
        Assert.That(Queries("Tests").Count(), Is.GreaterThanOrEqualTo(2));
        Assert.That(Queries("Checks").Count(), Is.GreaterThanOrEqualTo(2));
        Assert.That(Queries("Verify").Count(), Is.GreaterThanOrEqualTo(2));
    }

    [TestCaseSource(nameof(OnTheNewSchema))]
    [TestCaseSource(nameof(OnProductionBeforeTheDeploy))]
    public void Each_query_parses_runs_in_a_transaction_and_says_what_it_guards(string path)
    {
        var text = MigrationSource.ReadText(path);

        var prepared = new SqlServerEngine().Prepare(path, text);

        Assert.That(prepared.InTransaction, Is.True, prepared.OutsideTransactionReason);
        Assert.That(prepared.Statements, Has.Count.EqualTo(1), "one batch: T-SQL variables do not outlive a GO");
        Assert.That(text.TrimStart(), Does.StartWith("--"), "the file starts with a comment saying what it guards and why");
    }

    [TestCaseSource(nameof(OnTheNewSchema))]
    public void Each_test_and_verification_names_only_objects_and_columns_of_the_new_schema(string path)
    {
        using var model = SchemaModel();

        Assert.That(UnresolvedNames(model, path), Is.Empty);
    }

    [TestCaseSource(nameof(OnProductionBeforeTheDeploy))]
    public void Each_check_names_only_objects_and_columns_production_has_before_the_deploy(string path)
    {
        using var model = ProductionModel();

        Assert.That(UnresolvedNames(model, path), Is.Empty);
    }

    [Test]
    public void The_proof_fails_for_a_column_that_does_not_exist_and_for_an_object_only_the_new_schema_has()
    {
        using var folder = new ScratchFolder();
        var misspelled = folder.Write("misspelled.sql", "-- x\nSELECT c.CustomerId FROM sales.Customer AS c WHERE c.Emial IS NULL;\n");
        var missingTable = folder.Write("missing.sql", "-- x\nDECLARE @n int;\nINSERT INTO sales.Refund (OrderId) VALUES (1);\nSELECT @n;\n");
        var newView = folder.Write("new-view.sql", "-- x\nSELECT s.OrderId FROM sales.OrderSummary AS s WHERE s.Total < 0;\n");

        using (var schema = SchemaModel())
        {
            Assert.That(UnresolvedNames(schema, misspelled), Has.Some.Contains("[sales].[Customer].[Emial]"));
        }

        using (var schema = SchemaModel())
        {
            Assert.That(UnresolvedNames(schema, missingTable), Has.Some.Contains("[sales].[Refund]"));
        }

        using (var schema = SchemaModel())
        {
            Assert.That(UnresolvedNames(schema, newView), Is.Empty);
        }

        using var production = ProductionModel();
        Assert.That(UnresolvedNames(production, newView), Has.Some.Contains("[sales].[OrderSummary]"), "the view is new in this release");
    }

    /// <summary>The model of the sample's Schema/, as `dotnet build` compiles it.</summary>
    private static TSqlModel SchemaModel()
    {
        var model = new TSqlModel(SqlServerPlatform.Default.Version, new TSqlModelOptions { StorageType = DacSchemaModelStorageType.Memory });
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Sample, "Schema"), "*.sql", SearchOption.AllDirectories))
        {
            model.AddObjects(File.ReadAllText(file));
        }

        return model;
    }

    /// <summary>The model of production before the deploy: the committed baseline dacpac, open to new objects.</summary>
    private static TSqlModel ProductionModel() =>
        TSqlModel.LoadFromDacpac(
            Path.Combine(Sample, "Baseline", "production.dacpac"), new ModelLoadOptions(DacSchemaModelStorageType.Memory, loadAsScriptBackedModel: true));

    /// <summary>
    /// DacFx's validation messages once the query is the body of a procedure of its own: every name it cannot resolve.
    /// The model must have validated cleanly before, so each message is about the query.
    /// </summary>
    private static List<string> UnresolvedNames(TSqlModel model, string path)
    {
        Assert.That(model.Validate().Select(m => m.Message), Is.Empty, "the schema alone validates cleanly");
        var probe = $"[dbo].[__probe_{Path.GetFileNameWithoutExtension(path)}]";
        model.AddObjects($"CREATE PROCEDURE {probe}\nAS\nBEGIN\n{MigrationSource.ReadText(path)}\nEND;\n");
        Assert.That(model.GetModelErrors().Select(e => e.Message), Is.Empty, "DacFx modelled the query");
        Assert.That(model.GetObjects(DacQueryScopes.UserDefined, ModelSchema.Procedure).Select(p => p.Name.ToString()), Has.Member(probe));
        return [.. model.Validate().Select(m => $"{m.Prefix}{m.Number}: {m.Message}")];
    }
}
