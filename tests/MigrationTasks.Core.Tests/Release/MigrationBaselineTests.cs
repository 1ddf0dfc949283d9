using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Release;
using MigrationTasks.Schema;

namespace MigrationTasks.Core.Tests.Release;

public sealed class MigrationBaselineTests
{
    private static BaselineHistoryRow Row(string? version, string script, string checksum, HistoryOutcome outcome) =>
        new(version, script, checksum, outcome, 1, 1, "", new DateTimeOffset(2026, 11, 24, 9, 30, 0, TimeSpan.Zero));

    private static MigrationBaseline Sample() => new(
        "PostgreSql",
        new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
        "prod:5432/shop",
        [
            Row("1", "V1__a.sql", "a1", HistoryOutcome.Success),
            Row(null, "R__view.sql", "r1", HistoryOutcome.Success),
            Row("2", "V2__b.sql", "b1", HistoryOutcome.Failed),
            Row("2", "V2__b.sql", "b2", HistoryOutcome.Success),
            Row(null, "R__view.sql", "r2", HistoryOutcome.Failed),
            Row("3", "V3__c.sql", "c1", HistoryOutcome.Failed),
        ],
        new SchemaSnapshot([new SchemaObject("table", "public.a", "id integer"), new SchemaObject("view", "public.v", "SELECT 1")]));

    [Test]
    public void The_applied_history_is_each_scripts_newest_success_in_the_order_applied()
    {
        var applied = Sample().AppliedHistory();

        // V2 succeeded on its retry; R__view's failed re-run left its earlier version in place; V3 never succeeded.
        Assert.That(applied, Is.EqualTo(new[]
        {
            new AppliedMigration("1", "V1__a.sql", "a1"),
            new AppliedMigration(null, "R__view.sql", "r1"),
            new AppliedMigration("2", "V2__b.sql", "b2"),
        }));
    }

    [Test]
    public void It_round_trips_through_JSON_with_its_schema_and_hash()
    {
        var json = Sample().ToJson();
        var read = MigrationBaseline.FromJson(json);

        Assert.That(json, Does.Contain("\"schemaVersion\": 1").And.Contain("\"outcome\": \"success\"").And.Contain("\"schemaHash\""));
        Assert.That(read.SchemaHash, Is.EqualTo(Sample().SchemaHash));
        Assert.That(read.History, Is.EqualTo(Sample().History));
        Assert.That(read.Database, Is.EqualTo("prod:5432/shop"));
        Assert.That(read.ToJson(), Is.EqualTo(json));
    }

    [Test]
    public void A_baseline_whose_schema_was_edited_fails_with_MIG5001_naming_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"baseline-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Sample().ToJson().Replace("id integer", "id bigint", StringComparison.Ordinal));

        var error = Assert.Throws<DiagnosticException>(() => MigrationBaseline.Load(path))!.Diagnostics.Single();

        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.BaselineUnreadable));
        Assert.That(error.File, Is.EqualTo(path));
        Assert.That(error.Message, Does.Contain("does not match its objects"));
    }
}
