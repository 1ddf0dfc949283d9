using System.Diagnostics;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;
using MigrationTasks.Testing;

namespace MigrationTasks.Staging;

/// <summary>
/// The seed's "Run on staging → Data integrity OK?" at <c>dotnet publish</c>: is staging's schema what its history
/// says (drift), do the pre-deployment checks pass on its data, and do the pending migrations apply to its data
/// (a rehearsal that keeps nothing)? Findings are warnings, or errors with MigrationTreatFindingsAsErrors.
/// </summary>
public sealed class StagingValidator(IMigrationEngine engine, Reporter reporter)
{
    private const int DriftShown = 50;

    /// <summary>Runs the gate and writes its reports; returns null when no staging database is configured.</summary>
    public async Task<StagingReport?> ValidateAsync(StagingOptions options, CancellationToken cancellationToken)
    {
        var connectionString = Environment.GetEnvironmentVariable(options.ConnectionVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            reporter.Info($"Staging validation skipped: the environment variable {options.ConnectionVariable} is not set.");
            return null;
        }

        var migrations = MigrationSource.Prepare(engine, options.Migrations);
        var severity = options.FindingsAsErrors ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        var started = DateTimeOffset.UtcNow;
        await using var staging = await engine.ConnectAsync(connectionString, cancellationToken);
        var history = await staging.ReadHistoryAsync(cancellationToken);
        var plan = MigrationPlanner.Plan(migrations, history);
        reporter.Report(plan.Warnings);
        var findings = new List<Diagnostic>();

        var pendingFiles = plan.Pending.Select(p => p.File).ToHashSet();
        var applied = migrations.Where(m => m.File.Kind != MigrationKind.Undo && !pendingFiles.Contains(m.File)).ToList();
        var drift = await DriftAsync(staging, applied, options, severity, findings, cancellationToken);

        var checks = await new DatabaseTestRunner(engine, reporter, QueryKind.StagingCheck(options.FindingsAsErrors))
            .RunAsync(staging, options.Checks, cancellationToken);
        findings.AddRange(checks.Where(c => !c.Passed).Select(c => c.Failure!));

        var rehearsal = await RehearseAsync(staging, plan.Pending, severity, findings, cancellationToken);

        var report = new StagingReport(
            staging.DisplayName,
            started,
            [.. applied.Where(m => m.File.Version is not null).Select(m => m.File.Version!.Canonical)],
            [.. plan.Pending.Select(p => p.File.ScriptName)],
            drift,
            [.. checks.Select(c => new CheckOutcome(c.Path, c.Passed, c.Failure?.Message))],
            rehearsal,
            findings);
        StagingReportWriter.Write(report, options.ReportDirectory);
        reporter.Info($"Staging report: {Path.Combine(options.ReportDirectory, StagingReportWriter.MarkdownName)} ({findings.Count} finding(s)).");
        return report;
    }

    /// <summary>Builds, on a shadow, what staging's applied history should have produced and compares schemas.</summary>
    private async Task<IReadOnlyList<string>> DriftAsync(
        ITargetDatabase staging,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> applied,
        StagingOptions options,
        DiagnosticSeverity severity,
        List<Diagnostic> findings,
        CancellationToken cancellationToken)
    {
        var (shadow, reason) = await Shadow.TryOpenAsync(engine, staging, Path.Combine(options.StateDirectory, "staging-shadow"), cancellationToken);
        if (shadow is null)
        {
            reporter.Report(Diagnostic.Warning(DiagnosticCodes.NoShadowDatabase, $"drift detection skipped: {reason}."));
            return [];
        }

        SchemaSnapshot expected;
        await using (shadow)
        {
            // Quiet: the shadow's progress lines would bury the findings; its failures still throw.
            await new MigrationRunner(new Reporter(TextWriter.Null))
                .DeployAsync(shadow.Database, applied, ApplyContext.ForThisMachine(), MigrationRunner.DefaultLockWait, cancellationToken);
            expected = await shadow.Database.ReadSchemaAsync(cancellationToken);
        }

        var actual = await staging.ReadSchemaAsync(cancellationToken);
        var differences = SchemaDiff.Compare(expected, actual).Select(d => d.ToString()).ToList();
        foreach (var difference in differences.Take(DriftShown))
        {
            Add(findings, new Diagnostic(
                severity,
                DiagnosticCodes.StagingDrift,
                $"drift on {staging.DisplayName}: {difference} (compared with what its applied migrations produce). " +
                "Find who changed staging by hand; make the change a migration or undo it."));
        }

        if (differences.Count > DriftShown)
        {
            Add(findings, new Diagnostic(severity, DiagnosticCodes.StagingDrift, $"… and {differences.Count - DriftShown} more differences (staging-report.json lists all)."));
        }

        reporter.Info($"{staging.DisplayName}: {(differences.Count == 0 ? "no drift" : $"{differences.Count} difference(s)")} from what its history should have produced.");
        return differences;
    }

    /// <summary>
    /// Applies the pending migrations to staging's data inside one transaction that is rolled back. A migration
    /// that cannot run in a transaction cannot be rehearsed that way: then all of them are applied, in order, to a
    /// copy of staging that is dropped afterwards.
    /// </summary>
    private async Task<RehearsalOutcome?> RehearseAsync(
        ITargetDatabase staging,
        IReadOnlyList<MigrationStep> pending,
        DiagnosticSeverity severity,
        List<Diagnostic> findings,
        CancellationToken cancellationToken)
    {
        if (pending.Count == 0)
        {
            reporter.Info($"{staging.DisplayName}: nothing pending, nothing to rehearse.");
            return null;
        }

        if (pending.FirstOrDefault(p => !p.Script.InTransaction) is { } outside)
        {
            return await RehearseOnCopyAsync(staging, pending, outside, severity, findings, cancellationToken);
        }

        const string where = "on staging, in one transaction that was rolled back";
        var scripts = pending.Select(p => p.File.ScriptName).ToList();
        var clock = Stopwatch.StartNew();
        await using (var rehearsal = await staging.BeginRehearsalAsync(cancellationToken))
        {
            foreach (var step in pending)
            {
                try
                {
                    await rehearsal.ApplyAsync(step, cancellationToken);
                }
                catch (ScriptFailedException failure)
                {
                    Add(findings, RehearsalFailure(staging, step, failure, severity, "The rehearsal was rolled back; staging is unchanged."));
                    return new RehearsalOutcome(where, clock.ElapsedMilliseconds, scripts, $"{step.File.ScriptName}: {failure.ErrorCode}: {failure.ServerMessage}");
                }
            }
        }

        reporter.Info($"{staging.DisplayName}: rehearsed {pending.Count} pending migration(s) {where}, {clock.ElapsedMilliseconds} ms.");
        return new RehearsalOutcome(where, clock.ElapsedMilliseconds, scripts, null);
    }

    /// <summary>
    /// Applies every pending migration, in order and for real, to a copy of staging (its schema and data), then
    /// drops the copy: the rehearsal for migrations such as CREATE INDEX CONCURRENTLY that no transaction can undo.
    /// </summary>
    private async Task<RehearsalOutcome> RehearseOnCopyAsync(
        ITargetDatabase staging,
        IReadOnlyList<MigrationStep> pending,
        MigrationStep outside,
        DiagnosticSeverity severity,
        List<Diagnostic> findings,
        CancellationToken cancellationToken)
    {
        var scripts = pending.Select(p => p.File.ScriptName).ToList();
        var because = $"{outside.File.ScriptName} cannot run in a transaction ({outside.Script.OutsideTransactionReason})";
        var copying = Stopwatch.StartNew();
        var (copy, refusal) = await staging.TryCreateCopyAsync(cancellationToken);
        if (copy is null)
        {
            var why = $"not rehearsed: {because}, and no copy of staging could be made to rehearse it on ({refusal})";
            reporter.Info($"{staging.DisplayName}: {why}.");
            return new RehearsalOutcome(why, 0, scripts, null);
        }

        var where = $"on a copy of staging because {because}; the copy was dropped";
        var clock = Stopwatch.StartNew();
        await using (copy)
        {
            reporter.Info($"{staging.DisplayName}: copied to {copy.DisplayName} in {copying.ElapsedMilliseconds} ms to rehearse on, because {because}.");
            foreach (var step in pending)
            {
                try
                {
                    await copy.ApplyAsync(step, ApplyContext.ForThisMachine(), cancellationToken);
                }
                catch (ScriptFailedException failure)
                {
                    Add(findings, RehearsalFailure(staging, step, failure, severity, "The rehearsal ran on a copy of staging, which was dropped; staging is unchanged."));
                    return new RehearsalOutcome(where, clock.ElapsedMilliseconds, scripts, $"{step.File.ScriptName}: {failure.ErrorCode}: {failure.ServerMessage}");
                }
            }
        }

        reporter.Info($"{staging.DisplayName}: rehearsed {pending.Count} pending migration(s) {where}, {clock.ElapsedMilliseconds} ms.");
        return new RehearsalOutcome(where, clock.ElapsedMilliseconds, scripts, null);
    }

    private static Diagnostic RehearsalFailure(ITargetDatabase staging, MigrationStep step, ScriptFailedException failure, DiagnosticSeverity severity, string aftermath)
    {
        var (line, column) = MigrationRunner.Locate(step.Script, failure);
        var message = $"{step.File.ScriptName} would fail on {staging.DisplayName} at statement {failure.StatementNumber}: " +
                      $"{MigrationRunner.ServerWords(failure)} {aftermath} " +
                      "Fix the migration (or the data it meets) before it reaches production.";
        return new Diagnostic(severity, DiagnosticCodes.RehearsalFailed, message, step.File.Path, line, column);
    }

    private void Add(List<Diagnostic> findings, Diagnostic finding)
    {
        findings.Add(finding);
        reporter.Report(finding);
    }
}
