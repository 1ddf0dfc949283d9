using System.Text;
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
    private static readonly UTF8Encoding Utf8 = new(false);

    public async Task<ReleaseManifest> WriteAsync(ReleaseOptions options, CancellationToken cancellationToken)
    {
        var migrations = MigrationSource.Prepare(engine, options.Migrations);
        var baseline = string.IsNullOrEmpty(options.BaselinePath) ? null : LoadBaseline(options.BaselinePath);
        // Loaded before the slow work, so that a wrong certificate or password fails the publish at once.
        using var certificate = string.IsNullOrEmpty(options.SigningCertificate)
            ? null
            : ReleaseSigner.LoadCertificate(options.SigningCertificate, Environment.GetEnvironmentVariable(ReleaseSigner.PasswordVariable));

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

        var publishDirectory = Path.GetFullPath(options.PublishDirectory);
        var releaseDirectory = Path.Combine(publishDirectory, ReleaseLayout.FolderName);
        if (Directory.Exists(releaseDirectory))
        {
            // A file left from an earlier publish would be unlisted, and the verifier would rightly refuse it.
            Directory.Delete(releaseDirectory, recursive: true);
        }

        Directory.CreateDirectory(releaseDirectory);
        var files = new List<(string Path, ReleaseFileRole Role)>();
        foreach (var step in plan.Pending)
        {
            files.Add(Copy(step.File.Path, releaseDirectory, $"{ReleaseLayout.MigrationsFolder}/{step.File.ScriptName}", ReleaseFileRole.Migration));
        }

        var pendingVersions = plan.Pending.Where(p => p.File.Kind == MigrationKind.Versioned).Select(p => p.File.Version!).ToHashSet();
        var undo = new Dictionary<MigrationVersion, string>();
        foreach (var (file, _) in migrations.Where(m => m.File.Kind == MigrationKind.Undo && pendingVersions.Contains(m.File.Version!)))
        {
            var copied = Copy(file.Path, releaseDirectory, $"{ReleaseLayout.MigrationsFolder}/{file.ScriptName}", ReleaseFileRole.Migration);
            files.Add(copied);
            undo[file.Version!] = copied.Path;
        }

        var checks = CopyAll(options.Checks, releaseDirectory, ReleaseLayout.ChecksFolder, ReleaseFileRole.Check, files);
        var verifies = CopyAll(options.Verifies, releaseDirectory, ReleaseLayout.VerifyFolder, ReleaseFileRole.Verify, files);
        if (baseline is not null)
        {
            files.Add(Copy(options.BaselinePath!, releaseDirectory, ReleaseLayout.BaselineName, ReleaseFileRole.Baseline));
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

        File.WriteAllText(Path.Combine(releaseDirectory, ReleaseLayout.PlanName), ReleasePlanDocument.Write(manifest, baseline, plan.Pending, undo, checks, verifies), Utf8);
        files.Add((ReleaseLayout.PlanName, ReleaseFileRole.Plan));

        manifest = WriteManifest(manifest, files, publishDirectory, options.RunnerDirectory, reporter);

        reporter.Info($"Release package: {releaseDirectory}: {plan.Pending.Count} migration(s) to apply" +
                      $"{(plan.Pending.Count == 0 ? "" : $" ({Names(plan.Pending.Select(p => p.File.ScriptName).ToList())})")}, " +
                      $"{checks.Count} check(s), {verifies.Count} verification(s); {manifest.Files.Count} file(s) in {ReleaseLayout.ManifestName}.");
        if (certificate is not null)
        {
            ReleaseSigner.SignManifest(releaseDirectory, certificate);
            reporter.Info($"Signed {ReleaseLayout.ManifestName} with {certificate.Subject}, SHA-256 thumbprint {ReleaseTrust.ThumbprintOf(certificate)} " +
                          "(verify with `dotnet migrate.dll verify --trust <that thumbprint or the certificate's PEM file>`).");
        }
        else
        {
            reporter.Info("The release is not signed (MigrationSigningCertificate is not set): the runner accepts it only with --allow-unsigned.");
        }

        return manifest;
    }

    /// <summary>
    /// The end of every package step, before signing: the runner copied beside release/, then manifest.json listing
    /// every file of release/ and every file beside it with its SHA-256, so that the one signature covers the runner.
    /// </summary>
    /// <param name="files">The files written into release/, relative to it.</param>
    public static ReleaseManifest WriteManifest(
        ReleaseManifest manifest, IEnumerable<(string Path, ReleaseFileRole Role)> files, string publishDirectory, string? runnerDirectory, Reporter reporter)
    {
        var releaseDirectory = Path.Combine(publishDirectory, ReleaseLayout.FolderName);
        manifest = manifest with
        {
            Files = [.. files.Select(f => ReleaseFile.Of(releaseDirectory, f.Path, f.Role)).OrderBy(f => f.Path, StringComparer.Ordinal)],
            PackageFiles = new PackageFolderWriter(reporter).Write(runnerDirectory, publishDirectory),
        };
        File.WriteAllText(Path.Combine(releaseDirectory, ReleaseLayout.ManifestName), manifest.ToJson(), Utf8);
        return manifest;
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

    /// <summary>Copies one file into the release folder; MIG2006 when it cannot.</summary>
    public static (string Path, ReleaseFileRole Role) Copy(string source, string releaseDirectory, string relativePath, ReleaseFileRole role)
    {
        var target = Path.Combine(releaseDirectory, relativePath.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            File.Copy(source, target, overwrite: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.UnreadableFile, $"cannot copy the file into the release: {e.Message}", source));
        }

        return (relativePath, role);
    }

    /// <summary>Copies files under <paramref name="folder"/>, keeping their paths below the folder they share.</summary>
    public static List<string> CopyAll(IReadOnlyList<string> sources, string releaseDirectory, string folder, ReleaseFileRole role, List<(string Path, ReleaseFileRole Role)> files)
    {
        var full = sources.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        var common = CommonFolder(full);
        var copied = new List<string>();
        foreach (var source in full.Order(StringComparer.Ordinal))
        {
            var relative = $"{folder}/{Path.GetRelativePath(common, source).Replace(Path.DirectorySeparatorChar, '/')}";
            files.Add(Copy(source, releaseDirectory, relative, role));
            copied.Add(relative);
        }

        return copied;
    }

    private static string CommonFolder(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            return "";
        }

        var common = Path.GetDirectoryName(paths[0])!;
        while (!paths.All(p => p.StartsWith(common.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            common = Path.GetDirectoryName(common)!;
        }

        return common;
    }

    /// <summary>The first few names and how many more: a release of hundreds of scripts must not flood the build log.</summary>
    private static string Names(IReadOnlyList<string> names, int shown = 10) =>
        names.Count <= shown ? string.Join(", ", names) : $"{string.Join(", ", names.Take(shown))} and {names.Count - shown} more";
}
