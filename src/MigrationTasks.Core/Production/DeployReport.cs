using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Release;

namespace MigrationTasks.Production;

/// <summary>What one run of the runner did, for report.json and report.md. Never holds a connection string.</summary>
/// <param name="AttemptId">The deploy attempt this run recorded in the database's history, or resumed.</param>
/// <param name="LockWaits">Each time a statement gave up waiting for a table lock and the runner tried again.</param>
/// <param name="WritesSinceBackup">What other sessions wrote since the backup, when a restore was refused for it.</param>
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
    IReadOnlyList<Diagnostic> Diagnostics,
    string? AttemptId = null,
    IReadOnlyList<string>? LockWaits = null,
    IReadOnlyList<string>? WritesSinceBackup = null)
{
    public int ExitCode => (int)Exit;
}

/// <summary>One migration of the package and what became of it on this run.</summary>
public sealed record MigrationOutcome(string Script, bool Transactional, string State, int StatementsApplied, int StatementsTotal, long DurationMs);

/// <summary>The backup a deploy took: enough to find it and restore it by hand.</summary>
/// <param name="Engine">The engine that took it, for the restore command (<c>--engine</c>).</param>
public sealed record BackupSummary(string Id, string Path, long Bytes, string Proof, long DurationMs, string Engine)
{
    public static BackupSummary Of(DatabaseBackup backup) =>
        new(backup.Id, backup.DumpPath, backup.Bytes, backup.Proof, (long)backup.Duration.TotalMilliseconds, backup.Engine);

    /// <summary>The command that restores it by hand.</summary>
    public string RestoreCommand => DatabaseBackup.RestoreCommandFor(Engine, System.IO.Path.GetDirectoryName(Path) ?? ".", Id);
}
