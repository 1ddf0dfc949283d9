using System.Xml.Linq;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Testing;
using static MigrationTasks.Testing.TestSelectionState;

namespace MigrationTasks.Core.Tests.Testing;

/// <summary>Which tests a selective run picks, its record in tests-state.json, and how the report lists a kept test: offline.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class TestSelectionTests
{
    private const string Key = "dev-state-1";

    private static TestSelectionState Recorded(params (string Path, string? Sha256, Outcome Outcome)[] tests) =>
        new(CurrentFormat, Key, tests.ToDictionary(t => t.Path, t => new RecordedTest(t.Sha256, t.Outcome)));

    [Test]
    public void With_the_same_dev_state_only_new_changed_unreadable_and_not_passed_tests_run()
    {
        var previous = Recorded(("kept.sql", "h1", Outcome.Passed), ("changed.sql", "h2", Outcome.Passed), ("failed.sql", "h3", Outcome.Failed),
            ("errored.sql", "h4", Outcome.Error), ("unreadable.sql", null, Outcome.Error), ("deleted.sql", "h6", Outcome.Passed));

        var selection = TestSelection.Choose(previous,
            [("changed.sql", "h2-edited"), ("errored.sql", "h4"), ("failed.sql", "h3"), ("kept.sql", "h1"), ("new.sql", "h7"), ("unreadable.sql", null)], Key);

        Assert.That(selection.ToRun, Is.EqualTo(new[] { "changed.sql", "errored.sql", "failed.sql", "new.sql", "unreadable.sql" }));
        Assert.That(selection.Kept.Select(k => (k.Path, k.Passed, k.Kept, k.SourceHash, k.Run)), Is.EqualTo(new[] { ("kept.sql", true, true, "h1", (TestRun?)null) }));
        Assert.That(selection.WhyAll, Is.Null);
        Assert.That(selection.Summary(5), Is.EqualTo("5 of 6 tests ran: inputs of 1 unchanged since they passed."));
    }

    [Test]
    public void Another_dev_state_runs_every_test_and_says_why()
    {
        var selection = TestSelection.Choose(Recorded(("a.sql", "h1", Outcome.Passed)), [("a.sql", "h1")], "dev-state-2");

        Assert.That(selection.ToRun, Is.EqualTo(new[] { "a.sql" }));
        Assert.That(selection.Kept, Is.Empty);
        Assert.That(selection.Summary(1), Is.EqualTo("1 of 1 tests ran: the dev database or the tool changed since the last run."));
    }

    [Test]
    public void The_record_of_a_run_keeps_the_kept_tests_pass_and_each_run_tests_hash_and_outcome_and_reads_back()
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-selection-").FullName;
        var file = Path.Combine(folder, TestSelection.StateFileName);
        var row = Diagnostic.Error(DiagnosticCodes.TestFailed, "rows", "failed.sql");
        var results = new[]
        {
            new TestResult("b.sql", null, null) { SourceHash = "hb", Kept = true },
            new TestResult("a.sql", new TestRun(null, [], [], 0, null, TimeSpan.Zero), null) { SourceHash = "ha" },
            new TestResult("failed.sql", new TestRun(null, ["x"], [["1"]], 1, null, TimeSpan.Zero), row) { SourceHash = "hf" },
            new TestResult("unreadable.sql", null, Diagnostic.Error(DiagnosticCodes.UnreadableFile, "cannot read", "unreadable.sql")),
        };

        Assert.That(Of(Key, results).Write(file), Is.Null);
        var (state, whyNone) = Read(file);

        Assert.That(whyNone, Is.Null);
        Assert.That(state!.DevStateKey, Is.EqualTo(Key));
        Assert.That(state.Tests.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, t.Value.Sha256, t.Value.Outcome)), Is.EqualTo(new[]
        {
            ("a.sql", "ha", Outcome.Passed), ("b.sql", "hb", Outcome.Passed), ("failed.sql", "hf", Outcome.Failed), ("unreadable.sql", (string?)null, Outcome.Error),
        }));
        Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { file }), "written by a rename: no temporary file left");
        Directory.Delete(folder, recursive: true);
    }

    [TestCase(null, "no earlier run is recorded")]
    [TestCase("", "could not be read")]
    [TestCase("{ \"format\": 1, \"devStateKey\": \"k\", \"tests\": { \"a.sql\": { \"sha256\": \"h\", \"outcome\": \"passed\"", "could not be read")]
    [TestCase("{ \"format\": 1, \"devStateKey\": \"k\", \"tests\": { \"a.sql\": { \"sha256\": \"h\", \"outcome\": \"maybe\" } } }", "could not be read")]
    [TestCase("{ \"format\": 2, \"devStateKey\": \"k\", \"tests\": {} }", "is not one this version wrote")]
    [TestCase("{ \"format\": 1, \"tests\": {} }", "is not one this version wrote")]
    [TestCase("{ \"format\": 1, \"devStateKey\": \"k\", \"tests\": { \"a.sql\": null } }", "is not one this version wrote")]
    [TestCase("[]", "could not be read")]
    public void A_missing_corrupt_or_foreign_record_is_no_record_and_every_test_runs(string? content, string why)
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-selection-").FullName;
        var file = Path.Combine(folder, TestSelection.StateFileName);
        var test = Path.Combine(folder, "a.sql");
        File.WriteAllText(test, "select nothing");
        if (content is not null)
        {
            File.WriteAllText(file, content);
        }

        var selection = TestSelection.Choose(file, [test], "k");

        Assert.That(selection.ToRun, Is.EqualTo(new[] { test }));
        Assert.That(selection.WhyAll, Does.Contain(why));
        Directory.Delete(folder, recursive: true);
    }

    [Test]
    public void A_kept_test_is_listed_as_passed_with_a_note_and_counts_neither_as_failure_nor_error()
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-junit-").FullName;
        var report = Path.Combine(folder, "tests.xml");
        var results = new[]
        {
            new TestResult("a.sql", null, null) { Kept = true },
            new TestResult("b.sql", new TestRun(null, [], [], 0, null, TimeSpan.FromMilliseconds(1500)), null),
            new TestResult("c.sql", null, Diagnostic.Error(DiagnosticCodes.TestNotTransactional, "not in a transaction", "c.sql")),
        };

        JUnitReport.Write(report, "Shop", results);

        var suite = XDocument.Load(report).Root!.Element("testsuite")!;
        Assert.That(((int)suite.Attribute("tests")!, (int)suite.Attribute("failures")!, (int)suite.Attribute("errors")!), Is.EqualTo((3, 0, 1)));
        var kept = suite.Elements("testcase").First();
        Assert.That(((string)kept.Attribute("name")!, (string)kept.Attribute("time")!, (string?)kept.Element("system-out")), Is.EqualTo(("a.sql", "0.000", JUnitReport.KeptNote)));
        Assert.That(kept.Elements("failure").Concat(kept.Elements("error")), Is.Empty);
        Directory.Delete(folder, recursive: true);
    }
}
