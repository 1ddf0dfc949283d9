using System.Diagnostics;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;
using MigrationTasks.Testing;

namespace MigrationTasks.Staging;

/// <summary>
/// The seed's "Run on staging → Data integrity OK?" at <c>dotnet publish</c>: is staging's schema what its history
/// says it is (drift; see <see cref="IStagingSource"/>), do the pre-deployment checks pass on its data, and do the pending migrations apply to its data
/// (a rehearsal that keeps nothing)? Findings are warnings, or errors with MigrationTreatFindingsAsErrors.
/// </summary>
public sealed class StagingValidator(IMigrationEngine engine, Reporter reporter)
{
    private const int DriftShown = 50;

    /// <summary>Runs the gate of a migrations project (see <see cref="MigrationHistorySource"/>).</summary>
    public Task<StagingReport?> ValidateAsync(StagingOptions options, CancellationToken cancellationToken) =>
        ValidateAsync(options, new MigrationHistorySource(engine, reporter, options.Migrations, options.StateDirectory), cancellationToken);

    /// <summary>Runs the gate and writes its reports; returns null when no staging database is configured.</summary>
    public async Task<StagingReport?> ValidateAsync(StagingOptions options, IStagingSource source, CancellationToken cancellationToken)
    {
        var connectionString = Environment.GetEnvironmentVariable(options.ConnectionVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            reporter.Info($"Staging validation skipped: the environment variable {options.ConnectionVariable} is not set.");
            return null;
        }

        var severity = options.FindingsAsErrors ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        var started = DateTimeOffset.UtcNow;
        await using var staging = await engine.ConnectAsync(connectionString, cancellationToken);
        var plan = await source.PlanAsync(staging, cancellationToken);
        var findings = new List<Diagnostic>();
        ReportDrift(staging, plan, severity, findings);

        var checks = await new DatabaseTestRunner(engine, reporter, QueryKind.StagingCheck(options.FindingsAsErrors))
            .RunAsync(staging, options.Checks, cancellationToken);
        findings.AddRange(checks.Where(c => !c.Passed).Select(c => c.Failure!));

        RehearsalOutcome? rehearsal;
        if (plan.NotRehearsedBecause is { } why && plan.Pending.Count > 0)
        {
            reporter.Info($"{staging.DisplayName}: not rehearsed: {why}.");
            rehearsal = new RehearsalOutcome($"not rehearsed: {why}", 0, [.. plan.Pending.Select(p => p.File.ScriptName)], null);
        }
        else
        {
            rehearsal = await RehearseAsync(staging, plan.Pending, severity, findings, cancellationToken);
        }

        var report = new StagingReport(
            staging.DisplayName,
            started,
            plan.AppliedVersions,
            [.. plan.Pending.Select(p => p.File.ScriptName)],
            plan.Drift,
            [.. checks.Select(c => new CheckOutcome(c.Path, c.Passed, c.Failure?.Message))],
            rehearsal,
            findings);
        StagingReportWriter.Write(report, options.ReportDirectory);
        reporter.Info($"Staging report: {Path.Combine(options.ReportDirectory, StagingReportWriter.MarkdownName)} ({findings.Count} finding(s)).");
        return report;
    }

    /// <summary>Each difference from what staging should be is a finding (the first 50; the report lists all).</summary>
    private void ReportDrift(ITargetDatabase staging, StagingPlan plan, DiagnosticSeverity severity, List<Diagnostic> findings)
    {
        foreach (var difference in plan.Drift.Take(DriftShown))
        {
            Add(findings, new Diagnostic(
                severity,
                DiagnosticCodes.StagingDrift,
                $"drift on {staging.DisplayName}: {difference} (compared with {plan.DriftBasis}). " +
                "Find who changed staging by hand; make the change part of the project or undo it."));
        }

        if (plan.Drift.Count > DriftShown)
        {
            Add(findings, new Diagnostic(severity, DiagnosticCodes.StagingDrift, $"… and {plan.Drift.Count - DriftShown} more differences (staging-report.json lists all)."));
        }

        reporter.Info($"{staging.DisplayName}: {(plan.Drift.Count == 0 ? "no drift" : $"{plan.Drift.Count} difference(s)")} from {plan.DriftBasis}.");
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
