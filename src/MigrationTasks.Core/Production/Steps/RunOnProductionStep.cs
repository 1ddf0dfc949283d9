using System.Diagnostics;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Release;

namespace MigrationTasks.Production.Steps;

/// <summary>
/// "Run on production" and "Migration succeeded?", then verification, monitoring and, on failure, the way back.
/// When every pending migration can run in a transaction (the default), the whole release — migrations, post-state
/// check, Verify/ — runs in one transaction that commits with the attempt's "verified" record: a failure anywhere
/// needs no restore and loses nothing. Otherwise each migration commits on its own and a failure restores the backup.
/// A statement that gives up waiting for a table lock rolls its transaction back; the runner tries again after a pause.
/// </summary>
internal sealed class RunOnProductionStep(VerifyWithReadQueriesStep verify, MonitorStep monitor, RestoreFromBackupStep recover)
{
    public Task<RunnerExitCode> RunAsync(DeployRun run, Deployment deployment, CancellationToken cancellationToken) =>
        deployment.InOneTransaction ? InOneTransactionAsync(run, deployment, cancellationToken) : MigrationByMigrationAsync(run, deployment, cancellationToken);

    /// <summary>A run that committed every migration earlier and stopped before its verification passed: verify now.</summary>
    public async Task<RunnerExitCode> ReverifyAsync(DeployRun run, Deployment deployment, string why, CancellationToken cancellationToken)
    {
        run.Path.Mark(FlowChart.RunOnProduction, StepState.Passed, why);
        run.Path.Mark(FlowChart.Succeeded, StepState.Passed, "every migration was committed by the earlier attempt");
        return await VerifyCommittedAsync(run, deployment, "verified on a re-run", cancellationToken);
    }

    private async Task<RunnerExitCode> InOneTransactionAsync(DeployRun run, Deployment deployment, CancellationToken cancellationToken)
    {
        var database = deployment.Database;
        var migrating = run.Path.Begin(FlowChart.RunOnProduction);
        run.Info($"{database.DisplayName}: the release runs in one transaction: {deployment.Migrations.Count} migration(s), the post-state check and Verify/, " +
                 "then COMMIT. A failure anywhere rolls all of it back; no restore is needed.");
        for (var tried = 1; ; tried++)
        {
            var outcomes = new List<MigrationOutcome>();
            var verificationFailed = false;
            try
            {
                await using var transaction = await database.BeginReleaseTransactionAsync(deployment.Context, cancellationToken);
                foreach (var (file, script) in deployment.Migrations)
                {
                    run.Info($"{database.DisplayName}: applying {file.ScriptName} ({script.Statements.Count} statement(s)) in the release's transaction");
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        await transaction.ApplyAsync(new MigrationStep(file, script), cancellationToken);
                    }
                    catch (ScriptFailedException failure)
                    {
                        outcomes.Add(new MigrationOutcome(file.ScriptName, true, failure.IsLockTimeout ? "gave up waiting for a lock" : "failed", 0, script.Statements.Count, clock.ElapsedMilliseconds));
                        throw new ReleaseStatementFailed(file, script, failure);
                    }

                    outcomes.Add(new MigrationOutcome(file.ScriptName, true, "applied", script.Statements.Count, script.Statements.Count, clock.ElapsedMilliseconds));
                }

                run.Path.Pass(migrating, $"{deployment.Migrations.Count} migration(s) applied in the release's transaction, not yet committed");
                run.Path.Mark(FlowChart.Succeeded, StepState.Passed, "every migration applied");
                var problems = await verify.RunAsync(run, deployment.Release, VerifyWithReadQueriesStep.Reader.Of(transaction, database.DisplayName), cancellationToken);
                verificationFailed = problems.Count > 0;
                if (!verificationFailed)
                {
                    var verified = run.Attempt!.With(DeployState.Verified, "deployed and verified in one transaction");
                    await transaction.CommitAsync(verified, cancellationToken);
                    run.Attempt = verified;
                }

                // Leaving the block without the commit rolls the transaction back.
            }
            catch (ReleaseStatementFailed failed) when (failed.Failure.IsLockTimeout && tried < deployment.Options.Locks.Tries)
            {
                if (await WaitForLockAsync(run, deployment, failed.File, failed.Script, failed.Failure, tried, cancellationToken))
                {
                    continue;
                }

                return await InterruptedAsync(run, deployment, migrating, outcomes, "cancelled while waiting to try again");
            }
            catch (ReleaseStatementFailed failed)
            {
                run.Migrations.AddRange(outcomes.Take(outcomes.Count - 1).Select(o => o with { State = "rolled back with the release" }));
                run.Migrations.Add(outcomes[^1] with { State = outcomes[^1].State + "; the release rolled back" });
                NotRun(run, deployment, outcomes.Count);
                ReportFailure(run, deployment, failed.File, failed.Script, failed.Failure, tried);
                run.Path.Fail(migrating, $"{failed.File.ScriptName} failed at statement {failed.Failure.StatementNumber}: {failed.Failure.ErrorCode}: {failed.Failure.ServerMessage}");
                run.Path.Mark(FlowChart.Succeeded, StepState.Failed, $"{failed.File.ScriptName} failed; the release's transaction rolled back");
                return await recover.RecoverAsync(run, deployment, restoreNeeded: false, $"{failed.File.ScriptName} failed");
            }
            catch (Exception interrupted) when (interrupted is not DeployLockLostException)
            {
                // Cancelled (SIGTERM, Ctrl+C) or the connection broke. Before COMMIT the server rolls back by itself;
                // during COMMIT only the record tells whether it went through.
                var why = Interruptions.Describe(interrupted);
                if (!await CommittedAsync(deployment, run.Attempt!))
                {
                    return await InterruptedAsync(run, deployment, migrating, outcomes, why);
                }

                run.Attempt = run.Attempt!.With(DeployState.Verified, "deployed and verified in one transaction");
                run.Info($"{database.DisplayName}: the connection broke as the release committed ({why}); its record shows the commit went through.");
            }

            if (verificationFailed)
            {
                run.Migrations.AddRange(outcomes.Select(o => o with { State = "rolled back with the release" }));
                run.Path.Mark(FlowChart.Rollback, StepState.Passed, "the release's transaction rolled back: nothing of it was committed");
                return await recover.RecoverAsync(run, deployment, restoreNeeded: false, "verification failed before the commit");
            }

            run.Migrations.AddRange(outcomes);
            break;
        }

        return await AfterCutoverAsync(run, deployment, $"deployed and verified: {deployment.Migrations.Count} migration(s) in one transaction", cancellationToken);
    }

    private async Task<RunnerExitCode> MigrationByMigrationAsync(DeployRun run, Deployment deployment, CancellationToken cancellationToken)
    {
        var database = deployment.Database;
        var migrating = run.Path.Begin(FlowChart.RunOnProduction);
        var committedSomething = false;
        for (var i = 0; i < deployment.Migrations.Count; i++)
        {
            var (file, script) = deployment.Migrations[i];
            var step = new MigrationStep(file, script);
            var clock = Stopwatch.StartNew();
            for (var tried = 1; ; tried++)
            {
                run.Info($"{database.DisplayName}: applying {file.ScriptName} ({script.Statements.Count} statement(s), " +
                         $"{(script.InTransaction ? "in one transaction" : "outside a transaction: " + script.OutsideTransactionReason)}" +
                         $"{(step.IsResume ? $", from statement {step.FirstStatement + 1}" : "")})");
                try
                {
                    await database.ApplyAsync(step, deployment.Context, cancellationToken);
                    committedSomething = true;
                    run.Migrations.Add(new MigrationOutcome(file.ScriptName, script.InTransaction, "applied", script.Statements.Count, script.Statements.Count, clock.ElapsedMilliseconds));
                    break;
                }
                catch (ScriptFailedException failure) when (failure.IsLockTimeout && tried < deployment.Options.Locks.Tries)
                {
                    if (!script.InTransaction && failure.StatementNumber > 1)
                    {
                        // The statements before it are applied and recorded: the next try resumes at the one that waited.
                        committedSomething = true;
                        step = step with { FirstStatement = failure.StatementNumber - 1 };
                    }

                    if (!await WaitForLockAsync(run, deployment, file, script, failure, tried, cancellationToken))
                    {
                        run.Migrations.Add(new MigrationOutcome(file.ScriptName, script.InTransaction, "cancelled while waiting to try again", 0, script.Statements.Count, clock.ElapsedMilliseconds));
                        NotRun(run, deployment, i + 1);
                        run.Path.Fail(migrating, $"{file.ScriptName}: cancelled while waiting for a lock");
                        run.Path.Mark(FlowChart.Succeeded, StepState.Failed, "cancelled");
                        return await recover.RecoverAsync(run, deployment, restoreNeeded: committedSomething, $"{file.ScriptName} was cancelled");
                    }
                }
                catch (ScriptFailedException failure)
                {
                    // Outside a transaction even the failing statement may have committed work (a procedure that
                    // COMMITs in batches): only a restore brings the data back for sure.
                    committedSomething |= !script.InTransaction;
                    run.Migrations.Add(new MigrationOutcome(
                        file.ScriptName,
                        script.InTransaction,
                        script.InTransaction ? "failed, its transaction rolled back" : $"failed at statement {failure.StatementNumber}",
                        script.InTransaction ? 0 : failure.StatementNumber - 1,
                        script.Statements.Count,
                        clock.ElapsedMilliseconds));
                    NotRun(run, deployment, i + 1);
                    ReportFailure(run, deployment, file, script, failure, tried);
                    run.Path.Fail(migrating, $"{file.ScriptName} failed at statement {failure.StatementNumber}: {failure.ErrorCode}: {failure.ServerMessage}");
                    run.Path.Mark(FlowChart.Succeeded, StepState.Failed, $"{file.ScriptName} failed");
                    return await recover.RecoverAsync(run, deployment, restoreNeeded: committedSomething, $"{file.ScriptName} failed");
                }
                catch (Exception interrupted) when (interrupted is not DeployLockLostException)
                {
                    // Cancelled, or the connection broke or the server went away mid-migration: what committed is read
                    // back from the history (on a new session); a restore only when something did.
                    var why = Interruptions.Describe(interrupted);
                    run.Migrations.Add(new MigrationOutcome(file.ScriptName, script.InTransaction, "interrupted: " + why, 0, script.Statements.Count, clock.ElapsedMilliseconds));
                    NotRun(run, deployment, i + 1);
                    run.Path.Fail(migrating, $"{file.ScriptName} was interrupted: {why}");
                    run.Path.Mark(FlowChart.Succeeded, StepState.Failed, "interrupted");
                    run.Report(Diagnostic.Error(DiagnosticCodes.ProductionMigrationFailed, $"{file.ScriptName} was interrupted on {database.DisplayName}: {why}", file.Path));
                    var committed = committedSomething || await CommittedAsync(deployment, run.Attempt!);
                    return await recover.RecoverAsync(run, deployment, restoreNeeded: committed, $"{file.ScriptName} was interrupted");
                }
            }
        }

        run.Path.Pass(migrating, $"{deployment.Migrations.Count} migration(s) applied");
        run.Path.Mark(FlowChart.Succeeded, StepState.Passed, "every migration applied");
        await deployment.RecordAsync(run, DeployState.Migrated, "every migration committed; verifying");
        return await VerifyCommittedAsync(run, deployment, $"deployed and verified: {deployment.Migrations.Count} migration(s)", cancellationToken);
    }

    /// <summary>Verify/ on the committed release (migration by migration, or a re-run), then monitoring; a failure restores.</summary>
    private async Task<RunnerExitCode> VerifyCommittedAsync(DeployRun run, Deployment deployment, string outcome, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> problems;
        try
        {
            problems = await verify.RunAsync(run, deployment.Release, VerifyWithReadQueriesStep.Reader.Of(deployment.Database), cancellationToken);
        }
        catch (Exception unfinished) when (unfinished is not DeployLockLostException)
        {
            // Cancelled or disconnected while verifying: the release is not verified, so it is not kept.
            var why = Interruptions.Describe(unfinished);
            run.Report(Diagnostic.Error(DiagnosticCodes.VerificationError, $"verification could not finish on {deployment.Database.DisplayName}: {why} The release is rolled back."));
            run.Path.Mark(FlowChart.DataCorrect, StepState.Failed, "verification could not finish: " + why);
            problems = ["verification could not finish"];
        }

        if (problems.Count > 0)
        {
            run.Path.Mark(FlowChart.Rollback, StepState.Passed, "the migrations are committed, so rolling back means restoring the pre-deploy backup");
            return await recover.RecoverAsync(run, deployment, restoreNeeded: true, "verification failed after the migrations committed");
        }

        await deployment.RecordAsync(run, DeployState.Verified, outcome);
        return await AfterCutoverAsync(run, deployment, outcome, cancellationToken);
    }

    /// <summary>Monitoring after the release is committed and verified; then the ticket closes.</summary>
    private async Task<RunnerExitCode> AfterCutoverAsync(DeployRun run, Deployment deployment, string outcome, CancellationToken cancellationToken)
    {
        // The release is committed: from here a cancellation only cuts monitoring short (MonitorStep says so).
        if (await monitor.RunAsync(run, deployment, cancellationToken) is { } problem)
        {
            run.Path.Mark(FlowChart.Rollback, StepState.Passed, "the release is committed, so rolling back means restoring the pre-deploy backup");
            return await recover.RecoverAsync(run, deployment, restoreNeeded: true, problem);
        }

        run.Path.Mark(FlowChart.Close, StepState.Passed, outcome);
        run.Outcome = outcome;
        run.Info($"{deployment.Database.DisplayName}: {deployment.Release.PackageId} {deployment.Release.Version} {outcome}.");
        return RunnerExitCode.Succeeded;
    }

    /// <summary>A migration that was rolled back (or never began) before the release's transaction committed: back at the pre-state.</summary>
    private async Task<RunnerExitCode> InterruptedAsync(DeployRun run, Deployment deployment, FlowPath.Timing migrating, List<MigrationOutcome> outcomes, string why)
    {
        run.Migrations.AddRange(outcomes.Select(o => o with { State = "rolled back with the release" }));
        NotRun(run, deployment, outcomes.Count);
        run.Path.Fail(migrating, $"interrupted: {why}");
        run.Path.Mark(FlowChart.Succeeded, StepState.Failed, "interrupted; the release's transaction rolled back");
        run.Report(Diagnostic.Error(DiagnosticCodes.ProductionMigrationFailed, $"the deploy was interrupted on {deployment.Database.DisplayName}: {why} Its transaction rolled back."));
        return await recover.RecoverAsync(run, deployment, restoreNeeded: false, "the deploy was interrupted");
    }

    /// <summary>Reports the wait and pauses before the next try; false when cancelled during the pause.</summary>
    private static async Task<bool> WaitForLockAsync(DeployRun run, Deployment deployment, MigrationFile file, PreparedScript script, ScriptFailedException failure, int tried, CancellationToken cancellationToken)
    {
        var policy = deployment.Options.Locks;
        var pause = policy.PauseAfter(tried);
        var (line, _) = MigrationRunner.Locate(script, failure);
        var wait = $"{file.ScriptName} statement {failure.StatementNumber} (line {line}) gave up waiting for a lock after {policy.Timeout?.TotalSeconds:0.###} s " +
                   $"(try {tried} of {policy.Tries}); {(deployment.InOneTransaction ? "the release's transaction" : "its transaction")} rolled back, trying again in {pause.TotalSeconds:0.0} s";
        run.LockWaits.Add(wait);
        run.Info($"{deployment.Database.DisplayName}: {wait}.");
        try
        {
            await Task.Delay(pause, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static void ReportFailure(DeployRun run, Deployment deployment, MigrationFile file, PreparedScript script, ScriptFailedException failure, int tried)
    {
        var (line, column) = MigrationRunner.Locate(script, failure);
        run.Report(failure.IsLockTimeout
            ? Diagnostic.Error(
                DiagnosticCodes.LockWaitExhausted,
                $"{file.ScriptName} statement {failure.StatementNumber} waited for a table lock {tried} time(s), {deployment.Options.Locks.Timeout?.TotalSeconds:0.###} s each, " +
                $"and gave up: another session keeps the table busy (a long transaction or query). Nothing of it stays. Deploy again when the table is quieter, " +
                "or allow longer waits with --lock-wait (seconds per try) and --lock-retries.",
                file.Path,
                line,
                column)
            : Diagnostic.Error(
                DiagnosticCodes.ProductionMigrationFailed,
                $"{file.ScriptName} failed on {deployment.Database.DisplayName} at statement {failure.StatementNumber}: {MigrationRunner.ServerWords(failure)}",
                file.Path,
                line,
                column));
    }

    private static void NotRun(DeployRun run, Deployment deployment, int from) =>
        run.Migrations.AddRange(deployment.Migrations.Skip(from).Select(m => new MigrationOutcome(m.File.ScriptName, m.Script.InTransaction, "not run", 0, m.Script.Statements.Count, 0)));

    /// <summary>
    /// Whether the attempt committed anything, read back on a new session: its verified record (a commit that went
    /// through as the connection broke), or a history row it wrote. Unknown counts as yes: the backup then decides.
    /// </summary>
    private static async Task<bool> CommittedAsync(Deployment deployment, DeployAttempt attempt)
    {
        try
        {
            if (deployment.InOneTransaction)
            {
                var attempts = await deployment.Database.ReadDeployAttemptsAsync(CancellationToken.None);
                return attempts.Any(a => a.Id == attempt.Id && a.State == DeployState.Verified);
            }

            var history = await deployment.Database.ReadHistoryAsync(CancellationToken.None);
            return history.Any(h => h.DeployId == attempt.Id && (h.Outcome == HistoryOutcome.Success || h.StatementsApplied > 0));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return !deployment.InOneTransaction;
        }
    }

    /// <summary>A statement of the release's transaction failed: carries the migration it belongs to out of the transaction's block.</summary>
    private sealed class ReleaseStatementFailed(MigrationFile file, PreparedScript script, ScriptFailedException failure) : Exception(failure.Message, failure)
    {
        public MigrationFile File { get; } = file;

        public PreparedScript Script { get; } = script;

        public ScriptFailedException Failure { get; } = failure;
    }
}
