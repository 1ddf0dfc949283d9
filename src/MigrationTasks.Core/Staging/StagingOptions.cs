namespace MigrationTasks.Staging;

/// <summary>What <c>dotnet publish</c> gives the staging gate.</summary>
/// <param name="ReportDirectory">Where staging-report.json and staging-report.md are written.</param>
/// <param name="FindingsAsErrors">MigrationTreatFindingsAsErrors: drift, failed checks and a failed rehearsal fail the publish.</param>
public sealed record StagingOptions(
    IReadOnlyList<string> Migrations,
    IReadOnlyList<string> Checks,
    string ConnectionVariable,
    string StateDirectory,
    string ReportDirectory,
    bool FindingsAsErrors);
