using MigrationTasks.Engines;
using MigrationTasks.Production;
using MigrationTasks.Release;
using MigrationTasks.Schema;

namespace MigrationTasks.Core.Tests.Production;

/// <summary>
/// A SQL Server release expects production's catalog by its fingerprint (object names), not by the baseline
/// dacpac's model hash, and its baseline carries no history.
/// </summary>
public sealed class CatalogFingerprintPreStateTests
{
    private static readonly SchemaSnapshot Production = new(
    [
        new("table", "sales.Customer", "table"),
        new("column", "sales.Customer.Id", "int NOT NULL"),
        new("constraint", "sales.Customer.PK_Customer", "PRIMARY KEY CLUSTERED (Id)"),
    ]);

    private static readonly HistoryEntry EarlierDeploy = new(
        1, null, "deploy", "R__deploy.sql", "abc", 3, 3, "", HistoryOutcome.Success, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null);

    [Test]
    public void Production_with_the_baseline_objects_is_as_expected_whatever_its_definitions_and_earlier_deploys()
    {
        var differentDefinitions = new SchemaSnapshot(Production.Objects.Select(o => o with { Definition = o.Definition + " (as the server prints it)" }));

        var verdict = PreStateCheck.Judge(Release(CatalogFingerprint.Of(Production)), [], [EarlierDeploy], differentDefinitions, "shop", _ => false);

        Assert.That(verdict.Kind, Is.EqualTo(PreStateKind.AsExpected), string.Join("\n", verdict.Differences));
    }

    [Test]
    public void Production_with_an_object_the_baseline_lacks_is_refused_naming_the_fingerprints()
    {
        var changed = new SchemaSnapshot([.. Production.Objects, new("table", "sales.Extra", "table")]);

        var verdict = PreStateCheck.Judge(Release(CatalogFingerprint.Of(Production)), [], [], changed, "shop", _ => false);

        Assert.That(verdict.Kind, Is.EqualTo(PreStateKind.Different));
        Assert.That(verdict.Differences.Single(), Does.Contain("fingerprint").And.Contain(CatalogFingerprint.Of(Production)[..12]));
    }

    [Test]
    public void A_script_that_names_its_database_is_refused_on_a_database_of_another_name_and_only_there()
    {
        var release = Release(CatalogFingerprint.Of(Production), databaseName: "Shop");

        var elsewhere = PreStateCheck.Judge(release, [], [], Production, "Shop_Staging", _ => false);
        var same = PreStateCheck.Judge(release, [], [], Production, "shop", _ => false);

        Assert.That(elsewhere.Kind, Is.EqualTo(PreStateKind.Different));
        Assert.That(elsewhere.Differences.Single(), Does.Contain("names the database [Shop]").And.Contain("MigrationDatabaseName=Shop_Staging"));
        Assert.That(same.Kind, Is.EqualTo(PreStateKind.AsExpected), "names compare without case, as SQL Server's do");
    }

    private static ReleaseToDeploy Release(string fingerprint, string? databaseName = null) => new(
        "Shop",
        "1.0.0",
        "SqlServer",
        [],
        [],
        [],
        new ExpectedPreState(false, "baseline.dacpac", null, null, fingerprint, "a model hash no server reports", databaseName),
        null,
        null,
        ExpectedState: ExpectedStateKind.CatalogFingerprint);
}
