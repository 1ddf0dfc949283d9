using System.Text.Json;
using System.Text.Json.Serialization;

namespace MigrationTasks.Testing;

/// <summary>
/// What the last run of the build's tests left in <c>obj/…/tests-state.json</c>: the dev state it ran against and,
/// per test path, the SHA-256 of the bytes that ran and how it ended. Written whole, after a run, by a rename.
/// </summary>
public sealed record TestSelectionState(int Format, string DevStateKey, IReadOnlyDictionary<string, TestSelectionState.RecordedTest> Tests)
{
    /// <summary>Bumped when the file's meaning changes: a record of another format is no record.</summary>
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    public enum Outcome
    {
        Passed,
        Failed,
        Error,
    }

    /// <param name="Sha256">Null when the file could not be read: such a test always runs again.</param>
    public sealed record RecordedTest(string? Sha256, Outcome Outcome);

    /// <summary>The state of <paramref name="results"/> (the tests run and those kept) against <paramref name="devStateKey"/>.</summary>
    public static TestSelectionState Of(string devStateKey, IEnumerable<TestResult> results) => new(
        CurrentFormat,
        devStateKey,
        new SortedDictionary<string, RecordedTest>(
            results.ToDictionary(
                r => r.Path,
                r => new RecordedTest(
                    r.SourceHash,
                    r.Passed ? Outcome.Passed : r.Run is { Error: null } ? Outcome.Failed : Outcome.Error)),
            StringComparer.Ordinal));

    /// <summary>
    /// The record in <paramref name="path"/>, or null with the reason when there is none to trust (missing, unreadable,
    /// not this format): then every test runs, which is never wrong, only slower.
    /// </summary>
    public static (TestSelectionState? State, string? WhyNone) Read(string path)
    {
        if (!File.Exists(path))
        {
            return (null, "no earlier run is recorded");
        }

        try
        {
            var state = JsonSerializer.Deserialize<TestSelectionState>(File.ReadAllBytes(path), Json);
            if (state is null || state.Format != CurrentFormat || state.DevStateKey is null || state.Tests is null ||
                state.Tests.Any(t => t.Value is null))
            {
                return (null, $"the record of the last run ({Path.GetFileName(path)}) is not one this version wrote");
            }

            return (state, null);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return (null, $"the record of the last run ({Path.GetFileName(path)}) could not be read: {e.Message}");
        }
    }

    /// <summary>
    /// Writes the record by a rename of a file written beside it, so that a build stopped half-way leaves the old
    /// record or the new one, never half of one. Returns why it could not be written, or null.
    /// </summary>
    public string? Write(string path)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json).ReplaceLineEndings("\n") + "\n");
            File.Move(temporary, path, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception) when (e is IOException or UnauthorizedAccessException)
            {
                // Left behind in obj/; the next write or a clean removes it.
            }

            return e.Message;
        }
    }
}
