using System.Text.Json;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Staging;

namespace MigrationTasks.Release;

/// <summary>
/// The <c>package</c> step of <c>dotnet publish</c>: writes <c>release/</c> into the publish folder — the migrations
/// production lacks (planned against the baseline exactly as the deploy will plan against production), the checks,
/// the verification queries, the baseline, plan.md; then the runner beside release/ (<see cref="PackageFolderWriter"/>);
/// then manifest.json with the SHA-256 of every file of both, then the signature.
/// </summary>
public sealed class ReleaseWriter(IMigrationEngine engine, Reporter reporter)
{
    public async Task<ReleaseManifest> WriteAsync(ReleaseOptions options, CancellationToken cancellationToken)
    {
        var migrations = MigrationSource.Prepare(engine, options.Migrations);
        var baseline = string.IsNullOrEmpty(options.BaselinePath) ? null : LoadBaseline(options.BaselinePath);
        using var certificate = ReleaseFolderWriter.LoadSigningCertificate(options.SigningCertificate);

        var plan = MigrationPlanner.Plan(migrations, baseline?.ToHistoryEntries() ?? []);
        reporter.Report(plan.Warnings);
        DescribeExpectedState(baseline, options.BaselinePath, plan);

        var hashes = await new ReleaseStateProbe(engine, reporter)
            .ProbeAsync(migrations, Replayable(migrations, plan, baseline), options.StateDirectory, cancellationToken);
        var postStateKnown = true;
        if (baseline is not null && hashes?.BaselineReplay is { } replay && replay != baseline.SchemaHash)
        {
            // Built from scratch, the post-state would lack production's extra objects: the deploy could only fail.
            postStateKnown = false;
            reporter.Report(Diagnostic.Warning(
                DiagnosticCodes.BaselineSchemaMismatch,
                $"production's baseline differs from what its history produces: its schema hash is {baseline.SchemaHash}, but its {baseline.AppliedHistory().Count} " +
                $"applied migration(s) build {replay} on a throwaway server. Someone changed production outside migrations (or it runs another server " +
                "version); the deploy will expect the baseline's schema, and no post-state hash is packaged (Verify/ still runs). Find the change, make it a migration or undo it, and export the baseline again.",
                options.BaselinePath));
        }

        var release = ReleaseFolderWriter.Clear(options.PublishDirectory);
        foreach (var step in plan.Pending)
        {
            release.Copy(step.File.Path, $"{ReleaseLayout.MigrationsFolder}/{step.File.ScriptName}", ReleaseFileRole.Migration);
        }

        var pendingVersions = plan.Pending.Where(p => p.File.Kind == MigrationKind.Versioned).Select(p => p.File.Version!).ToHashSet();
        var undo = new Dictionary<MigrationVersion, string>();
        foreach (var (file, _) in migrations.Where(m => m.File.Kind == MigrationKind.Undo && pendingVersions.Contains(m.File.Version!)))
        {
            undo[file.Version!] = release.Copy(file.Path, $"{ReleaseLayout.MigrationsFolder}/{file.ScriptName}", ReleaseFileRole.Migration);
        }

        var checks = release.CopyAll(options.Checks, ReleaseLayout.ChecksFolder, ReleaseFileRole.Check);
        var verifies = release.CopyAll(options.Verifies, ReleaseLayout.VerifyFolder, ReleaseFileRole.Verify);
        if (baseline is not null)
        {
            release.Copy(options.BaselinePath!, ReleaseLayout.BaselineName, ReleaseFileRole.Baseline);
        }

        var manifest = new ReleaseManifest(
            ReleaseManifest.CurrentSchemaVersion,
            options.PackageId,
            options.Version,
            engine.Name,
            ExpectedStateKind.SchemaSnapshot,
            DateTimeOffset.UtcNow,
            options.ProjectDirectory is null ? null : SourceRevision.Find(options.ProjectDirectory),
            new ExpectedPreState(
                baseline is null,
                baseline is null ? null : ReleaseLayout.BaselineName,
                baseline?.AppliedHistory() ?? [],
                baseline?.SchemaHash ?? hashes?.EmptyDatabase),
            hashes is null || !postStateKnown ? null : new ExpectedPostState(hashes.AfterRelease),
            [],
            [],
            RehearsalDuration(options.StagingReport, plan),
            StatementLockTimeout: options.StatementLockTimeout);

        release.WriteText(ReleaseLayout.PlanName, ReleasePlanDocument.Write(manifest, baseline, plan.Pending, undo, checks, verifies), ReleaseFileRole.Plan);
        reporter.Info($"Release package: {release.Directory}: {plan.Pending.Count} migration(s) to apply" +
                      $"{(plan.Pending.Count == 0 ? "" : $" ({Names(plan.Pending.Select(p => p.File.ScriptName).ToList())})")}, " +
                      $"{checks.Count} check(s), {verifies.Count} verification(s).");
        return release.Finish(manifest, options.RunnerDirectory, certificate, reporter);
    }

    private MigrationBaseline LoadBaseline(string path)
    {
        var baseline = MigrationBaseline.Load(path);
        if (!string.Equals(baseline.Engine, engine.Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.BaselineEngineMismatch,
                $"the baseline was exported from a {baseline.Engine} database, but MigrationEngine is {engine.Name}. Export the baseline from this project's production database.",
                path));
        }

        return baseline;
    }

    private void DescribeExpectedState(MigrationBaseline? baseline, string? path, MigrationPlan plan)
    {
        if (baseline is null)
        {
            reporter.Info("No MigrationBaseline: the release expects an empty database (no migration history, no objects of its own) and carries every migration. " +
                          "For an existing production database, export its state with `migrate baseline --connection-variable VAR --out FILE` and set MigrationBaseline to the file.");
            return;
        }

        var applied = baseline.AppliedHistory();
        reporter.Info($"Baseline {path}: exported {baseline.ExportedAt:u}{(baseline.Database is null ? "" : $" from {baseline.Database}")}, " +
                      $"{applied.Count} applied migration(s){(applied.Count == 0 ? "" : $" up to {applied[^1].Script}")}; {plan.Pending.Count} pending.");
    }

    /// <summary>
    /// The migrations to replay for comparing with the baseline's schema, or null when a replay cannot reproduce
    /// production: a repeatable script changed since it was applied (its old text is gone), or a migration stopped
    /// part-way there.
    /// </summary>
    private IReadOnlyList<(MigrationFile File, PreparedScript Script)>? Replayable(
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations, MigrationPlan plan, MigrationBaseline? baseline)
    {
        if (baseline is null)
        {
            return null;
        }

        var appliedScripts = baseline.AppliedHistory().Select(a => a.Script).ToHashSet(StringComparer.Ordinal);
        var blocker = plan.Pending.FirstOrDefault(p => p.IsResume || (p.File.Kind == MigrationKind.Repeatable && appliedScripts.Contains(p.File.ScriptName)));
        if (blocker is not null)
        {
            reporter.Info($"The baseline's schema is not compared with a replay of its history: {blocker.File.ScriptName} " +
                          (blocker.IsResume ? "stopped part-way on production." : "changed since production applied it, and its old text is gone."));
            return null;
        }

        var pendingFiles = plan.Pending.Select(p => p.File).ToHashSet();
        return [.. migrations.Where(m => m.File.Kind != MigrationKind.Undo && !pendingFiles.Contains(m.File))];
    }

    /// <summary>
    /// How long the staging rehearsal of exactly these pending migrations took; null when there was none, it failed,
    /// or it rehearsed a different set (staging is not where production is).
    /// </summary>
    private TimeSpan? RehearsalDuration(string? reportPath, MigrationPlan plan)
    {
        if (string.IsNullOrEmpty(reportPath) || !File.Exists(reportPath))
        {
            return null;
        }

        StagingReport report;
        try
        {
            report = StagingReportWriter.Read(reportPath);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            reporter.Info($"The staging report {reportPath} cannot be read ({e.Message}); the manifest has no rehearsal duration.");
            return null;
        }

        // StagingValidator words a rehearsal it could not run "not rehearsed: …", with a duration of 0.
        if (report.Rehearsal is not { Failure: null } rehearsal
            || rehearsal.Where.StartsWith("not rehearsed", StringComparison.Ordinal)
            || !rehearsal.Scripts.SequenceEqual(plan.Pending.Select(p => p.File.ScriptName), StringComparer.Ordinal))
        {
            return null;
        }

        return TimeSpan.FromMilliseconds(rehearsal.DurationMs);
    }

    /// <summary>The first few names and how many more: a release of hundreds of scripts must not flood the build log.</summary>
    private static string Names(IReadOnlyList<string> names, int shown = 10) =>
        names.Count <= shown ? string.Join(", ", names) : $"{string.Join(", ", names.Take(shown))} and {names.Count - shown} more";
}
