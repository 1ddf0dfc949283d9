using MigrationTasks.Diagnostics;
using MigrationTasks.Release;

namespace MigrationTasks.Production;

/// <summary>What one run of the runner did, for report.json and report.md. Never holds a connection string.</summary>
public sealed record DeployReport(
    string Verb,
    string PackageId,
    string PackageVersion,
    string Database,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    RunnerExitCode Exit,
    string Outcome,
    IReadOnlyList<FlowStep> Steps,
    IReadOnlyList<MigrationOutcome> Migrations,
    BackupSummary? Backup,
    IReadOnlyList<string> Differences,
    IReadOnlyList<Diagnostic> Diagnostics)
{
    public int ExitCode => (int)Exit;
}

/// <summary>One migration of the package and what became of it on this run.</summary>
public sealed record MigrationOutcome(string Script, bool Transactional, string State, int StatementsApplied, int StatementsTotal, long DurationMs);

/// <summary>The backup a deploy took: enough to find it and restore it by hand.</summary>
public sealed record BackupSummary(string Id, string Path, long Bytes, string Proof, long DurationMs);
