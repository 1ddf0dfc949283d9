using MigrationTasks.Engines;

namespace MigrationTasks.Staging;

/// <summary>
/// What the staging gate compares staging with and what it rehearses there, which depends on the kind of project:
/// a migrations project's pending migrations and the schema its applied history builds on a shadow
/// (<see cref="MigrationHistorySource"/>); a SQL Server project's deploy script against its baseline dacpac and that
/// baseline's catalog (in the SQL Server engine). Checks, the rehearsal and the report are the same for both.
/// </summary>
public interface IStagingSource
{
    /// <summary>Reads staging (never changes it) and says what it should be and what a deploy would run on it.</summary>
    Task<StagingPlan> PlanAsync(ITargetDatabase staging, CancellationToken cancellationToken);
}

/// <param name="AppliedVersions">The versions staging's history says are applied (none for a state-based project).</param>
/// <param name="Pending">What a deploy would run on staging, in order; empty when staging is up to date.</param>
/// <param name="Drift">Each difference between staging's schema and what it should be; empty when there is none or it could not be read.</param>
/// <param name="DriftBasis">What staging was compared with, as the drift findings say it: "what its applied migrations produce".</param>
/// <param name="NotRehearsedBecause">Why the pending work must not be rehearsed at all (the report says so); null to rehearse it.</param>
public sealed record StagingPlan(
    IReadOnlyList<string> AppliedVersions,
    IReadOnlyList<MigrationStep> Pending,
    IReadOnlyList<string> Drift,
    string DriftBasis,
    string? NotRehearsedBecause = null);
