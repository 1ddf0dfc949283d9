using MigrationTasks.Diagnostics;

namespace MigrationTasks.Staging;

/// <summary>What the staging gate found; written as JSON (for tools) and Markdown (for people).</summary>
/// <param name="Drift">Each difference between staging's schema and the one its history should have produced.</param>
/// <param name="Checks">Each check file and whether it passed.</param>
/// <param name="Rehearsal">How the pending migrations fared on staging's data; null when none were pending.</param>
public sealed record StagingReport(
    string Database,
    DateTimeOffset Started,
    IReadOnlyList<string> AppliedVersions,
    IReadOnlyList<string> PendingScripts,
    IReadOnlyList<string> Drift,
    IReadOnlyList<CheckOutcome> Checks,
    RehearsalOutcome? Rehearsal,
    IReadOnlyList<Diagnostic> Findings)
{
    public bool Clean => Findings.Count == 0;
}

public sealed record CheckOutcome(string Path, bool Passed, string? Message);

/// <param name="Where">Where it ran, e.g. "on staging, in one transaction that was rolled back", or "on a copy of staging because …".</param>
/// <param name="Failure">Null when every pending migration applied.</param>
public sealed record RehearsalOutcome(string Where, long DurationMs, IReadOnlyList<string> Scripts, string? Failure);
