using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Release;
using MigrationTasks.Schema;

namespace MigrationTasks.Production;

/// <summary>Where production stands against a package: as expected, already deployed, or different (and how).</summary>
public sealed record PreStateVerdict(PreStateKind Kind, IReadOnlyList<string> Differences);

public enum PreStateKind
{
    /// <summary>Production is what the package was built for: deploy may go ahead.</summary>
    AsExpected,

    /// <summary>Every migration of the package is applied with the same bytes (and the schema is the expected post-state).</summary>
    AlreadyDeployed,

    /// <summary>Production differs from what the package expects: deploying would run untested SQL on an unknown state.</summary>
    Different,
}

/// <summary>
/// Compares production's history and schema with the package's expected pre-state before anything runs, so a
/// database changed since packaging is refused with the difference rather than migrated blind.
/// </summary>
public static class PreStateCheck
{
    /// <param name="databaseName">The database's name on its server, for a release whose script names its database.</param>
    /// <param name="isBuiltIn">Whether an object is one every new database of the engine has: what "empty" allows.</param>
    public static PreStateVerdict Judge(
        ReleaseToDeploy release,
        IReadOnlyList<MigrationFile> packageMigrations,
        IReadOnlyList<HistoryEntry> history,
        SchemaSnapshot actual,
        string databaseName,
        Func<SchemaObject, bool> isBuiltIn)
    {
        var expected = release.PreState;
        var schema = ExpectedSchema.For(release.ExpectedState);
        var applied = AppliedChecksums(history);
        if (IsDeployed(release.ExpectedHistory, packageMigrations, applied) && schema.IsPostState(release.PostState, actual))
        {
            return new PreStateVerdict(PreStateKind.AlreadyDeployed, []);
        }

        var differences = new List<string>();
        if (expected.DatabaseName is { } named && !named.Equals(databaseName, StringComparison.OrdinalIgnoreCase))
        {
            // The exact, signed script would change the database it names, not necessarily this one.
            differences.Add($"the deploy script names the database [{named}] (MigrationDatabaseName when it was packaged), and this database is [{databaseName}]: " +
                            $"publish again with MigrationDatabaseName={databaseName}");
        }

        differences.AddRange(HistoryDifferences(release.ExpectedHistory, history, applied, baselineHasHistory: expected.History is not null));
        differences.AddRange(expected.EmptyDatabase
            ? actual.Objects
                .Where(o => !isBuiltIn(o))
                .Select(o => $"{o.Kind} {o.Name} exists, and the package expects an empty database (no MigrationBaseline was packaged)")
            : schema.PreStateDifferences(release, actual));
        return new PreStateVerdict(differences.Count == 0 ? PreStateKind.AsExpected : PreStateKind.Different, differences);
    }

    /// <summary>Script → checksum of its last success: what the database holds now (repeatables are re-applied when changed).</summary>
    private static Dictionary<string, string> AppliedChecksums(IReadOnlyList<HistoryEntry> history) =>
        history.Where(h => h.Outcome == HistoryOutcome.Success)
            .GroupBy(h => h.Script)
            .ToDictionary(g => g.Key, g => g.Last().Checksum, StringComparer.Ordinal);

    private static bool IsDeployed(IReadOnlyList<AppliedMigration> expectedHistory, IReadOnlyList<MigrationFile> packageMigrations, Dictionary<string, string> applied) =>
        packageMigrations.Count > 0
        && packageMigrations.All(m => applied.TryGetValue(m.ScriptName, out var checksum) && checksum == m.Checksum)
        && expectedHistory.All(e => applied.ContainsKey(e.Script));

    private static IEnumerable<string> HistoryDifferences(
        IReadOnlyList<AppliedMigration> expected, IReadOnlyList<HistoryEntry> history, Dictionary<string, string> applied, bool baselineHasHistory)
    {
        // Each script's newest row is its state: a failed attempt since completed (a resumed migration) is history,
        // and a failed transactional one left nothing behind (0 statements applied).
        var newest = history.GroupBy(h => h.Script).Select(g => g.Last());
        foreach (var row in newest.Where(h => h.Outcome != HistoryOutcome.Success && (h.Outcome == HistoryOutcome.Running || h.StatementsApplied > 0)))
        {
            yield return $"history: {row.Script} is recorded as {row.Outcome.ToString().ToLowerInvariant()} " +
                         $"({row.StatementsApplied} of {row.StatementsTotal} statements applied): a person must finish or undo it first";
        }

        var wanted = expected.GroupBy(e => e.Script).ToDictionary(g => g.Key, g => g.Last().Checksum, StringComparer.Ordinal);
        foreach (var (script, checksum) in wanted)
        {
            if (!applied.TryGetValue(script, out var actual))
            {
                yield return $"history: {script} is in the baseline's history but not applied here";
            }
            else if (actual != checksum)
            {
                yield return $"history: {script} was applied with checksum {Short(actual)}, the baseline has {Short(checksum)}";
            }
        }

        foreach (var script in applied.Keys.Where(s => baselineHasHistory && !wanted.ContainsKey(s)).Order(StringComparer.Ordinal))
        {
            yield return $"history: {script} is applied here but not in the baseline's history (applied after the baseline was exported?)";
        }
    }

    private static string Short(string checksum) => checksum.Length > 12 ? checksum[..12] : checksum;
}
