using MigrationTasks.Common;

namespace MigrationTasks.Testing;

/// <summary>
/// Which of the build's tests run. The caller runs the test step only when an input changed (MSBuild's Inputs); then,
/// when the dev database is in the state the last run saw (the same dev state key), only the tests that are new,
/// changed (their bytes' SHA-256) or did not pass last time run, and the others keep their pass. Tests run in
/// transactions that are rolled back, so a test's outcome depends on its own bytes and the dev database only.
/// Any doubt (no record, an unreadable one, another dev state, <c>MigrationTestsAlways</c>) runs every test.
/// </summary>
public sealed class TestSelection
{
    /// <summary>The record's name in the build's state folder.</summary>
    public const string StateFileName = "tests-state.json";

    private TestSelection(int total, IReadOnlyList<string> toRun, IReadOnlyList<TestResult> kept, string? whyAll)
    {
        Total = total;
        ToRun = toRun;
        Kept = kept;
        WhyAll = whyAll;
    }

    public int Total { get; }

    /// <summary>The tests to run, in the order given.</summary>
    public IReadOnlyList<string> ToRun { get; }

    /// <summary>The tests not run, each a passed result with <see cref="TestResult.Kept"/> set.</summary>
    public IReadOnlyList<TestResult> Kept { get; }

    /// <summary>Why every test runs, when the choice was not made test by test; null otherwise.</summary>
    public string? WhyAll { get; }

    /// <summary>Every test, for <paramref name="why"/>.</summary>
    public static TestSelection All(IReadOnlyList<string> tests, string why) => new(tests.Count, tests, [], why);

    /// <summary>Reads the record in <paramref name="stateFile"/> and the tests' bytes, and chooses.</summary>
    public static TestSelection Choose(string stateFile, IReadOnlyList<string> tests, string devStateKey)
    {
        var (previous, whyNone) = TestSelectionState.Read(stateFile);
        return previous is null ? All(tests, whyNone!) : Choose(previous, [.. tests.Select(path => (path, HashOf(path)))], devStateKey);
    }

    /// <summary>The choice itself, given the record and each test's current hash (null: unreadable, so it runs and says why).</summary>
    public static TestSelection Choose(TestSelectionState previous, IReadOnlyList<(string Path, string? Sha256)> tests, string devStateKey)
    {
        if (previous.DevStateKey != devStateKey)
        {
            return All([.. tests.Select(t => t.Path)], "the dev database or the tool changed since the last run");
        }

        var toRun = new List<string>();
        var kept = new List<TestResult>();
        foreach (var (path, sha256) in tests)
        {
            if (sha256 is not null &&
                previous.Tests.TryGetValue(path, out var recorded) &&
                recorded is { Outcome: TestSelectionState.Outcome.Passed } &&
                recorded.Sha256 == sha256)
            {
                kept.Add(new TestResult(path, null, null) { SourceHash = sha256, Kept = true });
            }
            else
            {
                toRun.Add(path);
            }
        }

        return new TestSelection(tests.Count, toRun, kept, null);
    }

    /// <summary>The results of the run and the kept ones, in path order: what the report lists and the record holds.</summary>
    public IReadOnlyList<TestResult> Combine(IReadOnlyList<TestResult> ran) =>
        [.. ran.Concat(Kept).OrderBy(r => r.Path, StringComparer.Ordinal)];

    /// <summary>The line the output ends with, e.g. "3 of 40 tests ran: inputs of 37 unchanged since they passed."</summary>
    public string Summary(int ran) => WhyAll is not null
        ? $"{ran} of {Total} tests ran: {WhyAll}."
        : Kept.Count == 0
            ? $"{ran} of {Total} tests ran: each is new, changed or did not pass last time."
            : $"{ran} of {Total} tests ran: inputs of {Kept.Count} unchanged since they passed.";

    private static string? HashOf(string path)
    {
        try
        {
            return Sha256.HexOfFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
