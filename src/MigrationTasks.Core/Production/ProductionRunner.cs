using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Production.Steps;
using MigrationTasks.Release;

namespace MigrationTasks.Production;

/// <summary>
/// The seed's production path for a release package, one named step per node of its flowchart: window → verify
/// package → production as packaged? (with what earlier attempts left) → checks → create database backup → run on
/// production → verify with read queries → monitor → close; or rollback / restore from backup. Every way out maps
/// to one <see cref="RunnerExitCode"/>, every attempt is recorded in the database, and the report says which path
/// was taken.
/// </summary>
public sealed partial class ProductionRunner(IMigrationEngine engine, Reporter reporter)
{
    private const int DifferencesShown = 30;

    private readonly VerifyWithReadQueriesStep _verify = new(engine, reporter);
    private readonly RestoreFromBackupStep _recover = new();

    /// <summary>
    /// Deploys the release that <paramref name="openVerifiedRelease"/> returns after checking its signature and files
    /// (it throws a <see cref="DiagnosticException"/> to refuse). Writes report.json and report.md; never throws
    /// for a database problem: the exit code and the report say what happened.
    /// </summary>
    public async Task<DeployReport> DeployAsync(Func<ReleaseToDeploy> openVerifiedRelease, DeployOptions options, CancellationToken cancellationToken)
    {
        var run = new DeployRun("deploy", reporter);
        try
        {
            run.Exit = await DeployStepsAsync(run, openVerifiedRelease, options, cancellationToken);
        }
        catch (DeployLockLostException lost)
        {
            run.Exit = await LockLostAsync(run, lost);
        }
        catch (Exception unexpected) when (!run.Touched)
        {
            // Before this run changed anything nothing has changed, whatever went wrong (a lost connection, a failed
            // read, a cancellation).
            run.Exit = run.Refuse(unexpected is DiagnosticException d
                ? d.Diagnostics
                : [Diagnostic.Error(DiagnosticCodes.StoppedBeforeMigrating, $"the deploy stopped before migrating: {Interruptions.Describe(unexpected)} Nothing was changed; fix the cause and run again.")]);
        }
        catch (Exception unexpected)
        {
            // Recovery itself failed: say so, with what is known, rather than pretend.
            run.Exit = run.NeedsPerson(
                "stopped after migrating began; recovery failed: needs a person",
                Diagnostic.Error(
                    DiagnosticCodes.StateNeedsPerson,
                    $"the deploy stopped after migrating began, and recovering failed: {Interruptions.Describe(unexpected)} The report's Migrations table lists what ran" +
                    (run.Backup is { } backup ? $"; the backup {backup.Id} is at {backup.Path}." : ".")));
            await RecordQuietlyAsync(run, DeployState.NeedsPerson, run.Outcome);
        }
        finally
        {
            if (run.Database is not null)
            {
                await run.Database.DisposeAsync();
            }
        }

        return run.Finish(options.ReportDirectory);
    }

    private async Task<RunnerExitCode> DeployStepsAsync(DeployRun run, Func<ReleaseToDeploy> openVerifiedRelease, DeployOptions options, CancellationToken cancellationToken)
    {
        if (ReportDirectoryProblem(run.RunDirectory(options.ReportDirectory)) is { } unwritable)
        {
            return run.Refuse(unwritable);
        }

        run.Path.Skip(FlowChart.Notify, "no notification channel is configured: announce the deploy where your team expects it");
        if (!WindowAllows(run, options.Window))
        {
            return RunnerExitCode.Refused;
        }

        var verifying = run.Path.Begin(FlowChart.VerifyPackage);
        ReleaseToDeploy release;
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations;
        try
        {
            release = openVerifiedRelease();
            run.Release = release;
            migrations = [.. MigrationSource.Prepare(engine, release.Migrations).Where(m => m.File.Kind != MigrationKind.Undo)];
        }
        catch (DiagnosticException refused)
        {
            run.Path.Fail(verifying, "the package failed verification");
            return run.Refuse(refused.Diagnostics);
        }

        run.Path.Pass(verifying, $"{release.PackageId} {release.Version}: signature and every file's SHA-256 match the manifest");
        if (release.StagingRehearsalMs is { } ms)
        {
            run.Path.Mark(FlowChart.RunOnStaging, StepState.Passed, $"at publish: the pending migrations were rehearsed on staging in {ms} ms");
        }

        var connecting = run.Path.Begin(FlowChart.PreState);
        IDeployLock deployLock;
        try
        {
            run.Database = await ConnectAsync(options.ConnectionVariable, cancellationToken);
            if (await run.Database.WhyReadOnlyAsync(cancellationToken) is { } readOnly)
            {
                run.Path.Fail(connecting, "production cannot take changes: " + readOnly);
                return run.Refuse(Diagnostic.Error(
                    DiagnosticCodes.ReadOnlyTarget,
                    $"{run.Database.DisplayName} cannot take changes: {readOnly}. Nothing was touched (no backup was taken)."));
            }

            deployLock = await run.Database.AcquireDeployLockAsync(options.LockWait, cancellationToken);
        }
        catch (DiagnosticException refused)
        {
            run.Path.Fail(connecting, "production could not be opened and locked");
            return run.Refuse(refused.Diagnostics);
        }

        await using (deployLock)
        {
            var deployment = new Deployment(release, migrations, options, run.Database, deployLock);
            return await UnderLockAsync(run, deployment, connecting, cancellationToken);
        }
    }

    private async Task<RunnerExitCode> UnderLockAsync(DeployRun run, Deployment deployment, FlowPath.Timing preStateTiming, CancellationToken cancellationToken)
    {
        var database = deployment.Database;
        var release = deployment.Release;
        // Everything is read under the lock: two runs never plan from the same state.
        var attempts = await database.ReadDeployAttemptsAsync(cancellationToken);
        var history = await database.ReadHistoryAsync(cancellationToken);
        var before = await database.ReadSchemaAsync(cancellationToken);
        deployment.Before = before;
        var files = deployment.Migrations.Select(m => m.File).ToList();
        var resumption = DeployResumption.Decide(release, files, attempts, history);
        if (resumption.Abandoned is { } abandoned)
        {
            await database.RecordDeployAttemptAsync(abandoned, cancellationToken);
            run.Info($"{database.DisplayName}: deploy attempt {abandoned.Id} of {abandoned.PackageId} {abandoned.PackageVersion} had stopped before committing anything; recorded as failed.");
        }

        if (resumption.Kind is not (ResumeKind.Deploy or ResumeKind.AlreadyDeployed))
        {
            return await ResumeAsync(run, deployment, resumption, preStateTiming, cancellationToken);
        }

        var verdict = PreStateCheck.Judge(release, files, history, before, database.Name, engine.IsBuiltIn);
        switch (verdict.Kind)
        {
            case PreStateKind.AlreadyDeployed when resumption.Kind == ResumeKind.AlreadyDeployed:
                run.Path.Pass(preStateTiming, "already deployed and verified: every migration of the package is applied with the same bytes; nothing to do");
                run.Path.Mark(FlowChart.Close, StepState.Passed, "re-run of a deployed package: no-op");
                run.Outcome = "already deployed and verified, nothing ran";
                run.Info($"{database.DisplayName}: {release.PackageId} {release.Version} is already deployed and verified; nothing to do.");
                return RunnerExitCode.Succeeded;
            case PreStateKind.AlreadyDeployed:
                // Applied, but no run of this release verified it (an older runner, or a person): it is not deployed until it is.
                run.Path.Pass(preStateTiming, "every migration of the package is applied, but no deploy of it was verified: verifying now");
                return await ResumeAsync(run, deployment, new ResumeDecision(ResumeKind.VerifyApplied, null, "applied without a verified deploy"), null, cancellationToken);
            case PreStateKind.Different:
                run.Path.Fail(preStateTiming, $"{verdict.Differences.Count} difference(s) from the state the package was built for");
                run.Differences.AddRange(verdict.Differences);
                var shown = string.Join("; ", verdict.Differences.Take(DifferencesShown));
                var more = verdict.Differences.Count > DifferencesShown ? $"; … and {verdict.Differences.Count - DifferencesShown} more (report.json lists all)" : "";
                return run.Refuse(Diagnostic.Error(
                    DiagnosticCodes.PreStateMismatch,
                    $"{database.DisplayName} is not in the state {release.PackageId} {release.Version} was built for, so nothing was touched: {shown}{more}. " +
                    "Export a new baseline (`migrate baseline`), commit it and publish again, or undo the change on production."));
        }

        run.Path.Pass(preStateTiming, release.PreState.EmptyDatabase
            ? "empty database, as the package expects (no MigrationBaseline)"
            : $"history and schema (hash {Interruptions.Short(before.Hash)}) equal the packaged baseline");

        if (!await new ChecksStep(engine, reporter).RunAsync(run, deployment, cancellationToken))
        {
            return RunnerExitCode.Refused;
        }

        // A connection reaper may have ended the lock's session while the checks ran: never back up or migrate without it.
        await deployment.Lock.ProveHeldAsync(cancellationToken);
        deployment.Backup = await CreateBackupStep.RunAsync(run, deployment, cancellationToken);
        if (deployment.Backup is null)
        {
            return RunnerExitCode.Refused;
        }

        await deployment.Lock.ProveHeldAsync(cancellationToken);
        if (await database.EndOrphanedDeploySessionsAsync(cancellationToken) is > 0 and var ended)
        {
            run.Info($"{database.DisplayName}: ended {ended} session(s) that earlier, dead runs of the deploy left behind (they could hold locks).");
        }

        await StartAttemptAsync(run, deployment, cancellationToken);
        return await new RunOnProductionStep(_verify, new MonitorStep(_verify), _recover).RunAsync(run, deployment, cancellationToken);
    }

    /// <summary>Finishes what an earlier attempt left, as its run would have (see <see cref="DeployResumption"/>).</summary>
    private async Task<RunnerExitCode> ResumeAsync(DeployRun run, Deployment deployment, ResumeDecision decision, FlowPath.Timing? preStateTiming, CancellationToken cancellationToken)
    {
        var database = deployment.Database;
        run.Info($"{database.DisplayName}: {decision.Reason}");
        if (decision.Kind == ResumeKind.NeedsPerson)
        {
            run.Attempt = decision.Attempt;
            run.Path.Fail(preStateTiming!.Value, "an earlier deploy attempt is unfinished: " + decision.Reason);
            run.Path.Mark(FlowChart.Investigate, StepState.Failed, "nothing ran: an earlier attempt needs a person");
            return run.NeedsPerson("nothing ran: an earlier deploy needs a person", Diagnostic.Error(DiagnosticCodes.EarlierDeployUnfinished, decision.Reason));
        }

        if (preStateTiming is { } timing)
        {
            run.Path.Pass(timing, decision.Reason);
        }

        await deployment.Lock.ProveHeldAsync(cancellationToken);
        run.Touched = true;
        var step = new RunOnProductionStep(_verify, new MonitorStep(_verify), _recover);
        if (decision.Attempt is { } earlier)
        {
            run.Attempt = earlier;
            deployment.Context = ContextFor(deployment, earlier);
            deployment.Backup = CreateBackupStep.Load(run, earlier, engine.Name);
        }

        switch (decision.Kind)
        {
            case ResumeKind.FinishRestore or ResumeKind.RecoverInterrupted:
                if (deployment.Backup is null)
                {
                    return await _recover.RecoverAsync(run, deployment, restoreNeeded: true, decision.Kind == ResumeKind.FinishRestore ? "an earlier restore did not finish" : "an earlier deploy stopped part-way");
                }

                return await _recover.RestoreAsync(run, deployment, deployment.Backup, decision.Kind == ResumeKind.FinishRestore
                    ? $"finishing the restore of deploy attempt {run.Attempt!.Id}"
                    : $"deploy attempt {run.Attempt!.Id} stopped part-way");
            case ResumeKind.Reverify:
                return await step.ReverifyAsync(run, deployment, $"applied by deploy attempt {run.Attempt!.Id}", cancellationToken);
            default:
                // VerifyApplied: no earlier attempt of this release to lean on, and no backup of this run either.
                await StartAttemptAsync(run, deployment, cancellationToken);
                return await step.ReverifyAsync(run, deployment, "applied before, without a verified deploy", cancellationToken);
        }
    }

    /// <summary>Records this run's attempt before its first change, with its backup: a later run must find both.</summary>
    private static async Task StartAttemptAsync(DeployRun run, Deployment deployment, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        run.Attempt = new DeployAttempt(
            DeployAttempt.NewId(now),
            deployment.Release.PackageId,
            deployment.Release.Version,
            deployment.Release.Fingerprint,
            DeployState.Started,
            now,
            now,
            deployment.Backup?.Id,
            deployment.Backup is { } backup ? Path.GetDirectoryName(backup.DumpPath) : null,
            deployment.Backup is null ? "verifying a release applied without a verified deploy" : "backed up; migrating",
            Environment.MachineName);
        await deployment.Database.RecordDeployAttemptAsync(run.Attempt, cancellationToken);
        run.Touched = true;
        deployment.Context = ContextFor(deployment, run.Attempt);
    }

    private static ApplyContext ContextFor(Deployment deployment, DeployAttempt attempt) =>
        new(Environment.MachineName, deployment.Release.PackageId, deployment.Release.Version, attempt.Id, deployment.Options.Locks.Timeout, RecordFailures: false);

    /// <summary>
    /// The deploy lock was taken from this run (its session ended) or another deploy applied the same migration: stop
    /// at once, restore nothing (another deploy may be working), and say exactly what this run committed.
    /// </summary>
    private async Task<RunnerExitCode> LockLostAsync(DeployRun run, DeployLockLostException lost)
    {
        run.Path.Mark(FlowChart.Investigate, StepState.Failed, "the deploy lock was lost: " + lost.Message);
        var committed = run.Migrations.Where(m => m.State == "applied").Select(m => m.Script).ToList();
        // Nothing of this run committed: its attempt is closed as failed, so that it does not block the next deploy;
        // what it committed otherwise is for a person to judge against what the other deploy did.
        await RecordQuietlyAsync(run, committed.Count == 0 ? DeployState.Failed : DeployState.NeedsPerson, "the deploy lock was lost: " + lost.Message);
        var exit = run.NeedsPerson(
            "stopped: the deploy lock was lost; needs a person",
            Diagnostic.Error(
                DiagnosticCodes.DeployLockLost,
                $"{lost.Message} This run committed {(committed.Count == 0 ? "nothing" : string.Join(", ", committed))}" +
                (run.Attempt is { } attempt ? $" (deploy attempt {attempt.Id})" : "") +
                ". Find the other deploy (its report, or the server's list of sessions), let it finish, then run this deploy again: it resumes from what the history records."));
        return exit;
    }

    private static async Task RecordQuietlyAsync(DeployRun run, DeployState state, string detail)
    {
        if (run.Attempt is { } attempt && run.Database is { } database && attempt.State is not (DeployState.Verified or DeployState.Failed or DeployState.Restored))
        {
            run.Attempt = attempt.With(state, detail);
            try
            {
                await database.RecordDeployAttemptAsync(run.Attempt, CancellationToken.None);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                run.Info($"{database.DisplayName}: could not record deploy attempt {attempt.Id} as {DeployAttempt.StateName(state)} ({e.Message}).");
            }
        }
    }

    private static bool WindowAllows(DeployRun run, MaintenanceWindow? window)
    {
        if (window is null)
        {
            run.Path.Skip(FlowChart.Window, "no --window given: the deploy may run at any time");
            return true;
        }

        var timing = run.Path.Begin(FlowChart.Window);
        if (!window.Contains(DateTimeOffset.UtcNow))
        {
            run.Path.Fail(timing, $"now ({DateTimeOffset.UtcNow:HH:mm} UTC) is outside the window {window}");
            run.Refuse(Diagnostic.Error(
                DiagnosticCodes.OutsideWindow,
                $"it is {DateTimeOffset.UtcNow:HH:mm} UTC, outside the maintenance window {window}: nothing was touched. Run again inside the window."));
            return false;
        }

        run.Path.Pass(timing, $"inside the window {window}");
        return true;
    }

    private async Task<ITargetDatabase> ConnectAsync(string variable, CancellationToken cancellationToken)
    {
        var connectionString = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.ConnectionVariableNotSet,
                $"the environment variable {variable} is not set: set it to the database's connection string (or name another with --connection-variable)."));
        }

        return await engine.ConnectAsync(connectionString, cancellationToken);
    }

    /// <summary>The database part of a display name (<c>host:port/name</c>): hosts may be spelled differently.</summary>
    private static string DatabaseName(string displayName) => displayName[(displayName.LastIndexOf('/') + 1)..];

    /// <summary>The report must be writable before anything runs: a deploy nobody can read about is not done.</summary>
    private static Diagnostic? ReportDirectoryProblem(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".migrationtasks-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Diagnostic.Error(
                DiagnosticCodes.ReportDirectoryNotWritable,
                $"the report folder {directory} cannot be written ({e.Message}): nothing was touched. Pass --report-dir with a folder the runner can write.");
        }
    }
}
