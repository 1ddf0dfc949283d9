using System.Globalization;
using System.Security.Cryptography;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Release;

namespace MigrationTasks.Production;

/// <summary>
/// What one run of the runner has gathered so far: the path through the flowchart, the migrations' fates, the
/// backup, the deploy attempt, the diagnostics; and, at the end, the report. Each step adds to it.
/// </summary>
public sealed class DeployRun(string verb, Reporter reporter)
{
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    /// <summary>This run's own report folder's name: concurrent runs sharing a --report-dir never overwrite each other.</summary>
    public string Id { get; } =
        $"{DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{verb}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";

    public Reporter Reporter => reporter;

    public FlowPath Path { get; } = new();

    public List<MigrationOutcome> Migrations { get; } = [];

    public List<string> Differences { get; } = [];

    public List<Diagnostic> Diagnostics { get; } = [];

    public List<string> LockWaits { get; } = [];

    public List<string> WritesSinceBackup { get; } = [];

    public ReleaseToDeploy? Release { get; set; }

    public ITargetDatabase? Database { get; set; }

    public BackupSummary? Backup { get; set; }

    /// <summary>The deploy attempt as last recorded (or to be recorded) in the database.</summary>
    public DeployAttempt? Attempt { get; set; }

    /// <summary>True once this run may have changed the database: from then on a failure is recovered, not refused.</summary>
    public bool Touched { get; set; }

    public RunnerExitCode Exit { get; set; } = RunnerExitCode.NeedsAttention;

    public string Outcome { get; set; } = "did not finish";

    /// <summary>What the report's title names when no verified release does (a restore names its backup).</summary>
    public string Subject { get; set; } = "(unverified package)";

    public string DatabaseName => Database?.DisplayName ?? "(not connected)";

    /// <summary>This run's report folder inside <paramref name="reportDirectory"/>.</summary>
    public string RunDirectory(string reportDirectory) => System.IO.Path.Combine(reportDirectory, Id);

    public void Report(Diagnostic diagnostic)
    {
        Diagnostics.Add(diagnostic);
        reporter.Report(diagnostic);
    }

    public void Info(string message) => reporter.Info(message);

    public RunnerExitCode Refuse(params Diagnostic[] diagnostics) => Refuse((IEnumerable<Diagnostic>)diagnostics);

    public RunnerExitCode Refuse(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Report(diagnostic);
        }

        Path.Mark(FlowChart.Refused, StepState.Failed, "refused before touching the database");
        Outcome = "refused: the database was not touched";
        return RunnerExitCode.Refused;
    }

    /// <summary>Ends the run with exit code 3: the report says what ran and what a person must do.</summary>
    public RunnerExitCode NeedsPerson(string outcome, Diagnostic diagnostic)
    {
        Report(diagnostic);
        Outcome = outcome;
        return RunnerExitCode.NeedsAttention;
    }

    /// <summary>
    /// Writes report.json and report.md into this run's folder and, as the latest, into <paramref name="reportDirectory"/>
    /// itself; each whole or not at all. A report that cannot be written is said on the output: the exit code still
    /// tells the truth.
    /// </summary>
    public DeployReport Finish(string reportDirectory)
    {
        var report = new DeployReport(
            verb,
            Release?.PackageId ?? Subject,
            Release?.Version ?? "",
            DatabaseName,
            _started,
            DateTimeOffset.UtcNow,
            Exit,
            Outcome,
            Path.Steps,
            Migrations,
            Backup,
            Differences,
            Diagnostics,
            Attempt?.Id,
            LockWaits,
            WritesSinceBackup);
        var runDirectory = RunDirectory(reportDirectory);
        try
        {
            DeployReportWriter.Write(report, runDirectory);
            DeployReportWriter.Write(report, reportDirectory);
        }
        catch (Exception e)
        {
            // Whatever the reason (a full disk, permissions, a path that cannot be), the exit code stays the run's.
            reporter.Report(Diagnostic.Error(
                DiagnosticCodes.ReportDirectoryNotWritable,
                $"the report could not be written to {runDirectory} ({e.Message}); this output is the only record of the run (exit code {(int)Exit}: {Outcome})."));
            return report;
        }

        reporter.Info($"Report: {System.IO.Path.Combine(runDirectory, DeployReportWriter.MarkdownName)} (exit code {(int)Exit}: {Outcome}).");
        return report;
    }
}
