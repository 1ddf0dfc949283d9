using System.Diagnostics;
using MigrationTasks.Diagnostics;
using MigrationTasks.Release;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;
using MigrationTasks.Testing;

namespace MigrationTasks.Production;

/// <summary>
/// The seed's production path for a release package: window → verify package → pre-state → lock → Checks/ →
/// backup (proven) → migrate → post-state and Verify/ → on failure, transaction rollback or restore (proven) →
/// report. Every way out maps to one <see cref="RunnerExitCode"/>, and the report says which path was taken.
/// </summary>
public sealed class ProductionRunner(IMigrationEngine engine, Reporter reporter)
{
    private const int DifferencesShown = 30;

    /// <summary>
    /// Deploys the release that <paramref name="openVerifiedRelease"/> returns after checking its signature and files
    /// (it throws a <see cref="DiagnosticException"/> to refuse). Writes report.json and report.md; never throws
    /// for a database problem: the exit code and the report say what happened.
    /// </summary>
    public async Task<DeployReport> DeployAsync(Func<ReleaseToDeploy> openVerifiedRelease, DeployOptions options, CancellationToken cancellationToken)
    {
        var run = new Run("deploy", reporter);
        try
        {
            run.Exit = await DeployStepsAsync(run, openVerifiedRelease, options, cancellationToken);
        }
        catch (Exception unexpected) when (!run.Touched)
        {
            // Before the first migration nothing has changed, whatever went wrong (a lost connection, a failed read,
            // a cancellation).
            run.Exit = run.Refuse(unexpected is DiagnosticException d
                ? d.Diagnostics
                : [Diagnostic.Error(DiagnosticCodes.StoppedBeforeMigrating, $"the deploy stopped before migrating: {Describe(unexpected)} Nothing was changed; fix the cause and run again.")]);
        }
        catch (Exception unexpected)
        {
            // Recovery itself failed: say so, with what is known, rather than pretend.
            run.Report(Diagnostic.Error(
                DiagnosticCodes.StateNeedsPerson,
                $"the deploy stopped after migrating began, and recovering failed: {Describe(unexpected)} The report's Migrations table lists what ran" +
                (run.Backup is { } backup ? $"; the backup {backup.Id} is at {backup.Path}." : ".")));
            run.Outcome = "stopped after migrating began; recovery failed: needs a person";
            run.Exit = RunnerExitCode.NeedsAttention;
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

    private async Task<RunnerExitCode> DeployStepsAsync(Run run, Func<ReleaseToDeploy> openVerifiedRelease, DeployOptions options, CancellationToken cancellationToken)
    {
        if (ReportDirectoryProblem(options.ReportDirectory) is { } unwritable)
        {
            return run.Refuse(unwritable);
        }

        run.Path.Skip(FlowChart.Notify, "no notification channel is configured: announce the deploy where your team expects it");
        if (options.Window is { } window)
        {
            var timing = run.Path.Begin(FlowChart.Window);
            if (!window.Contains(DateTimeOffset.UtcNow))
            {
                run.Path.Fail(timing, $"now ({DateTimeOffset.UtcNow:HH:mm} UTC) is outside the window {window}");
                return run.Refuse(Diagnostic.Error(
                    DiagnosticCodes.OutsideWindow,
                    $"it is {DateTimeOffset.UtcNow:HH:mm} UTC, outside the maintenance window {window}: nothing was touched. Run again inside the window."));
            }

            run.Path.Pass(timing, $"inside the window {window}");
        }
        else
        {
            run.Path.Skip(FlowChart.Window, "no --window given: the deploy may run at any time");
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
        MarkStaging(run, release);

        var connecting = run.Path.Begin(FlowChart.PreState);
        IAsyncDisposable deployLock;
        try
        {
            run.Database = await ConnectAsync(options.ConnectionVariable, cancellationToken);
            deployLock = await run.Database.AcquireDeployLockAsync(options.LockWait, cancellationToken);
        }
        catch (DiagnosticException refused)
        {
            run.Path.Fail(connecting, "production could not be opened and locked");
            return run.Refuse(refused.Diagnostics);
        }

        await using (deployLock)
        {
            return await LockedStepsAsync(run, release, migrations, options, connecting, cancellationToken);
        }
    }

    private async Task<RunnerExitCode> LockedStepsAsync(
        Run run,
        ReleaseToDeploy release,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations,
        DeployOptions options,
        FlowPath.Timing preStateTiming,
        CancellationToken cancellationToken)
    {
        var database = run.Database!;
        // The history is read under the lock: two runs never plan from the same state.
        var history = await database.ReadHistoryAsync(cancellationToken);
        var before = await database.ReadSchemaAsync(cancellationToken);
        var verdict = PreStateCheck.Judge(release, [.. migrations.Select(m => m.File)], history, before, database.Name);
        switch (verdict.Kind)
        {
            case PreStateKind.AlreadyDeployed:
                run.Path.Pass(preStateTiming, "already deployed: every migration of the package is applied with the same bytes; nothing to do");
                run.Path.Mark(FlowChart.Close, StepState.Passed, "re-run of a deployed package: no-op");
                run.Outcome = "already deployed, nothing ran";
                reporter.Info($"{database.DisplayName}: {release.PackageId} {release.Version} is already deployed; nothing to do.");
                return RunnerExitCode.Succeeded;
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
            : $"history and schema (hash {Short(before.Hash)}) equal the packaged baseline");

        if (release.Checks.Count == 0)
        {
            run.Path.Skip(FlowChart.Checks, "the package has no Checks/");
        }
        else
        {
            var checking = run.Path.Begin(FlowChart.Checks);
            var checks = await new DatabaseTestRunner(engine, reporter, QueryKind.ProductionCheck).RunAsync(database, release.Checks, cancellationToken);
            var failed = checks.Where(c => !c.Passed).ToList();
            if (failed.Count > 0)
            {
                run.Path.Fail(checking, $"{failed.Count} of {checks.Count} check(s) failed: {string.Join(", ", failed.Select(f => Path.GetFileName(f.Path)))}");
                run.Diagnostics.AddRange(failed.Select(f => f.Failure!));
                return run.Refuse();
            }

            run.Path.Pass(checking, $"{checks.Count} check(s) passed");
        }

        var backingUp = run.Path.Begin(FlowChart.Backup);
        DatabaseBackup backup;
        try
        {
            backup = await database.BackupAsync(options.BackupDirectory, options.HashRows, cancellationToken);
        }
        catch (DiagnosticException refused)
        {
            run.Path.Fail(backingUp, "no backup, so no migration: " + refused.Diagnostics[0].Message);
            return run.Refuse(refused.Diagnostics);
        }

        run.Backup = new BackupSummary(backup.Id, backup.DumpPath, backup.Bytes, backup.Proof, (long)backup.Duration.TotalMilliseconds);
        run.Path.Pass(backingUp, $"{backup.Id} ({backup.Bytes:N0} bytes); {backup.Proof}");
        reporter.Info($"{database.DisplayName}: backup {backup.Id} at {backup.DumpPath}; {backup.Proof}.");

        return await MigrateAndVerifyAsync(run, release, migrations, backup, before, options, cancellationToken);
    }

    private async Task<RunnerExitCode> MigrateAndVerifyAsync(
        Run run,
        ReleaseToDeploy release,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations,
        DatabaseBackup backup,
        SchemaSnapshot before,
        DeployOptions options,
        CancellationToken cancellationToken)
    {
        var database = run.Database!;
        var context = new ApplyContext(Environment.MachineName, release.PackageId, release.Version);
        var migrating = run.Path.Begin(FlowChart.RunOnProduction);
        run.Touched = true;
        var committedSomething = false;
        for (var i = 0; i < migrations.Count; i++)
        {
            var (file, script) = migrations[i];
            reporter.Info($"{database.DisplayName}: applying {file.ScriptName} ({script.Statements.Count} statement(s), " +
                          $"{(script.InTransaction ? "in one transaction" : "outside a transaction: " + script.OutsideTransactionReason)})");
            var clock = Stopwatch.StartNew();
            try
            {
                await database.ApplyAsync(new MigrationStep(file, script), context, cancellationToken);
                committedSomething = true;
                run.Migrations.Add(new MigrationOutcome(file.ScriptName, script.InTransaction, "applied", script.Statements.Count, script.Statements.Count, clock.ElapsedMilliseconds));
            }
            catch (ScriptFailedException failure)
            {
                var applied = script.InTransaction ? 0 : failure.StatementNumber - 1;
                // Outside a transaction even the failing statement may have committed work (a procedure that
                // COMMITs in batches): only a restore brings the data back for sure.
                committedSomething |= !script.InTransaction;
                run.Migrations.Add(new MigrationOutcome(
                    file.ScriptName,
                    script.InTransaction,
                    script.InTransaction ? "failed, its transaction rolled back" : $"failed at statement {failure.StatementNumber}",
                    applied,
                    script.Statements.Count,
                    clock.ElapsedMilliseconds));
                run.Migrations.AddRange(migrations.Skip(i + 1).Select(m => new MigrationOutcome(m.File.ScriptName, m.Script.InTransaction, "not run", 0, m.Script.Statements.Count, 0)));
                var (line, column) = MigrationRunner.Locate(script, failure);
                run.Report(Diagnostic.Error(
                    DiagnosticCodes.ProductionMigrationFailed,
                    $"{file.ScriptName} failed on {database.DisplayName} at statement {failure.StatementNumber}: {MigrationRunner.ServerWords(failure)}",
                    file.Path,
                    line,
                    column));
                run.Path.Fail(migrating, $"{file.ScriptName} failed at statement {failure.StatementNumber}: {failure.ErrorCode}: {failure.ServerMessage}");
                run.Path.Mark(FlowChart.Succeeded, StepState.Failed, $"{file.ScriptName} failed");
                return await RecoverAsync(run, backup, before, restoreNeeded: committedSomething, $"{file.ScriptName} failed");
            }
            catch (Exception unexpected)
            {
                // Cancelled, or the connection broke or the server went away mid-migration: what committed is
                // unknown, so restore (not cancellable: stopping half-way back would be worse).
                var why = Describe(unexpected);
                run.Migrations.Add(new MigrationOutcome(file.ScriptName, script.InTransaction, "interrupted: " + why, 0, script.Statements.Count, clock.ElapsedMilliseconds));
                run.Migrations.AddRange(migrations.Skip(i + 1).Select(m => new MigrationOutcome(m.File.ScriptName, m.Script.InTransaction, "not run", 0, m.Script.Statements.Count, 0)));
                run.Path.Fail(migrating, $"{file.ScriptName} was interrupted: {why}");
                run.Path.Mark(FlowChart.Succeeded, StepState.Failed, "interrupted");
                run.Report(Diagnostic.Error(DiagnosticCodes.ProductionMigrationFailed, $"{file.ScriptName} was interrupted on {database.DisplayName}: {why}", file.Path));
                return await RecoverAsync(run, backup, before, restoreNeeded: true, $"{file.ScriptName} was interrupted");
            }
        }

        run.Path.Pass(migrating, $"{migrations.Count} migration(s) applied");
        run.Path.Mark(FlowChart.Succeeded, StepState.Passed, "every migration applied");

        try
        {
            if (await VerifyAndMonitorAsync(run, release, options, cancellationToken) is { } problem)
            {
                run.Path.Mark(FlowChart.Rollback, StepState.Passed, "the migrations are committed, so rolling back means restoring the pre-deploy backup");
                return await RecoverAsync(run, backup, before, restoreNeeded: true, problem);
            }
        }
        catch (Exception unexpected)
        {
            // Cancelled or disconnected while verifying: the deploy is not verified, so it is not kept.
            run.Report(Diagnostic.Error(DiagnosticCodes.StateNeedsPerson, $"verification could not finish: {Describe(unexpected)} The deploy is rolled back."));
            run.Path.Mark(FlowChart.DataCorrect, StepState.Failed, "verification could not finish: " + Describe(unexpected));
            return await RecoverAsync(run, backup, before, restoreNeeded: true, "verification could not finish");
        }

        run.Path.Mark(FlowChart.Close, StepState.Passed, "deployed and verified");
        run.Outcome = $"deployed and verified: {migrations.Count} migration(s)";
        reporter.Info($"{database.DisplayName}: {release.PackageId} {release.Version} deployed and verified.");
        return RunnerExitCode.Succeeded;
    }

    /// <summary>Post-state, Verify/ and the monitoring period; returns why the deploy must be rolled back, or null.</summary>
    private async Task<string?> VerifyAndMonitorAsync(Run run, ReleaseToDeploy release, DeployOptions options, CancellationToken cancellationToken)
    {
        var database = run.Database!;
        var verifying = run.Path.Begin(FlowChart.VerifyQueries);
        var problems = await VerifyAsync(run, release, checkPostState: true, cancellationToken);
        if (problems.Count > 0)
        {
            run.Path.Fail(verifying, string.Join("; ", problems));
            run.Path.Mark(FlowChart.DataCorrect, StepState.Failed, string.Join("; ", problems));
            return "verification failed after the deploy";
        }

        run.Path.Pass(verifying, release.Verify.Count == 0 ? "post-state checked; the package has no Verify/ queries" : $"post-state checked; {release.Verify.Count} verification query(ies) passed");
        run.Path.Mark(FlowChart.DataCorrect, StepState.Passed, "data and schema as expected");

        if (options.MonitorPeriod > TimeSpan.Zero)
        {
            var monitoring = run.Path.Begin(FlowChart.Monitor);
            reporter.Info($"{database.DisplayName}: monitoring for {options.MonitorPeriod.TotalSeconds:0} s, then running Verify/ again.");
            await Task.Delay(options.MonitorPeriod, cancellationToken);
            var late = await VerifyAsync(run, release, checkPostState: false, cancellationToken);
            if (late.Count > 0)
            {
                run.Path.Fail(monitoring, string.Join("; ", late));
                return "verification failed while monitoring";
            }

            run.Path.Pass(monitoring, "Verify/ passed again after the monitoring period");
        }
        else
        {
            run.Path.Skip(FlowChart.Monitor, "no --monitor-seconds given: watch your dashboards (with --monitor-seconds N the runner runs Verify/ again after N seconds)");
        }

        return null;
    }

    /// <summary>The post-state hash and the Verify/ queries; returns the problems found (none = data correct).</summary>
    private async Task<List<string>> VerifyAsync(Run run, ReleaseToDeploy release, bool checkPostState, CancellationToken cancellationToken)
    {
        var database = run.Database!;
        var problems = new List<string>();
        if (checkPostState && release.PostStateSchemaHash is { } expected)
        {
            var after = await database.ReadSchemaAsync(cancellationToken);
            if (after.Hash != expected)
            {
                problems.Add($"the schema after the deploy (hash {Short(after.Hash)}) is not the one the package's history produces (hash {Short(expected)})");
                run.Report(Diagnostic.Error(
                    DiagnosticCodes.PostStateMismatch,
                    $"{database.DisplayName}: the schema after the deploy has hash {after.Hash}, the package expects {expected}: production held something the baseline did not show."));
            }
        }

        if (checkPostState && release.PostStateCatalogFingerprint is { } fingerprint)
        {
            var after = CatalogFingerprint.Of(await database.ReadSchemaAsync(cancellationToken));
            if (after != fingerprint)
            {
                problems.Add($"the catalog after the deploy (fingerprint {Short(after)}) does not hold the package's objects (fingerprint {Short(fingerprint)})");
                run.Report(Diagnostic.Error(
                    DiagnosticCodes.PostStateMismatch,
                    $"{database.DisplayName}: the catalog after the deploy has fingerprint {after}, the package expects {fingerprint}: an object is missing or extra."));
            }
        }

        var verifications = await new DatabaseTestRunner(engine, reporter, QueryKind.Verification).RunAsync(database, release.Verify, cancellationToken);
        foreach (var failed in verifications.Where(v => !v.Passed))
        {
            problems.Add($"{Path.GetFileName(failed.Path)} failed");
            run.Diagnostics.Add(failed.Failure!);
        }

        return problems;
    }

    /// <summary>
    /// Brings production back to its pre-deploy state after a failure, and proves it: when nothing of this deploy
    /// was committed the transaction's rollback is enough (proven by the schema); otherwise the backup is restored.
    /// </summary>
    private async Task<RunnerExitCode> RecoverAsync(Run run, DatabaseBackup backup, SchemaSnapshot before, bool restoreNeeded, string why)
    {
        var database = run.Database!;
        if (!restoreNeeded)
        {
            var now = await database.ReadSchemaAsync(CancellationToken.None);
            if (now.Hash == before.Hash)
            {
                run.Path.Skip(FlowChart.Restore, "not needed: the failing migration's transaction rolled back and nothing of this deploy was committed; the schema is proven equal to the pre-state");
                return FailedBack(run, why, "the transaction rolled back");
            }
        }

        var restoring = run.Path.Begin(FlowChart.Restore);
        reporter.Info($"{database.DisplayName}: restoring backup {backup.Id}.");
        try
        {
            await database.RestoreAsync(backup, CancellationToken.None);
        }
        catch (Exception failure)
        {
            var what = failure is DiagnosticException d ? string.Join(" ", d.Diagnostics.Select(x => x.Message)) : Describe(failure);
            run.Path.Fail(restoring, what);
            run.Path.Mark(FlowChart.Investigate, StepState.Failed, $"{why}, and the restore failed: the database needs a person");
            run.Report(Diagnostic.Error(
                DiagnosticCodes.StateNeedsPerson,
                $"{why}, and restoring backup {backup.Id} failed: {what} The database is in the state the report's Migrations table describes. " +
                $"Restore by hand: `dotnet migrate.dll restore --connection-variable VAR --backup-dir {Path.GetDirectoryName(backup.DumpPath)} --backup {backup.Id}` (the dump is {backup.DumpPath})."));
            run.Outcome = $"{why}; restore failed: needs a person";
            return RunnerExitCode.NeedsAttention;
        }

        run.Path.Pass(restoring, $"restored {backup.Id}; {backup.RestoreProof} to the pre-deploy state");
        return FailedBack(run, why, $"backup {backup.Id} restored and proven");
    }

    private RunnerExitCode FailedBack(Run run, string why, string how)
    {
        run.Path.Mark(FlowChart.Investigate, StepState.Failed, $"{why}; {how}: production is at its pre-deploy state");
        run.Outcome = $"failed and rolled back: {why}; {how}";
        reporter.Info($"{run.Database!.DisplayName}: {why}; {how}. The database is at its pre-deploy state.");
        return RunnerExitCode.Failed;
    }

    /// <summary>
    /// <c>migrate plan</c>: read-only. Where production stands against the package, what would run (the exact SQL)
    /// and whether the pre-deployment checks pass. Succeeded when a deploy would go ahead (or is already done).
    /// </summary>
    public async Task<RunnerExitCode> PlanAsync(ReleaseToDeploy release, string connectionVariable, TextWriter sql, CancellationToken cancellationToken)
    {
        var migrations = MigrationSource.Prepare(engine, release.Migrations).Where(m => m.File.Kind != MigrationKind.Undo).ToList();
        await using var database = await ConnectAsync(connectionVariable, cancellationToken);
        var history = await database.ReadHistoryAsync(cancellationToken);
        var verdict = PreStateCheck.Judge(release, [.. migrations.Select(m => m.File)], history, await database.ReadSchemaAsync(cancellationToken), database.Name);
        switch (verdict.Kind)
        {
            case PreStateKind.AlreadyDeployed:
                reporter.Info($"{database.DisplayName}: {release.PackageId} {release.Version} is already deployed; a deploy would do nothing.");
                return RunnerExitCode.Succeeded;
            case PreStateKind.Different:
                reporter.Report(Diagnostic.Error(
                    DiagnosticCodes.PreStateMismatch,
                    $"{database.DisplayName} is not in the state {release.PackageId} {release.Version} was built for; a deploy would be refused: {string.Join("; ", verdict.Differences)}."));
                return RunnerExitCode.Refused;
        }

        reporter.Info($"{database.DisplayName}: in the state the package expects. A deploy would back it up, then apply {migrations.Count} migration(s):");
        foreach (var (file, script) in migrations)
        {
            sql.WriteLine();
            sql.WriteLine($"-- {file.ScriptName}: {script.Statements.Count} statement(s), " +
                          (script.InTransaction ? "in one transaction" : $"outside a transaction, statement by statement ({script.OutsideTransactionReason})"));
            sql.WriteLine(script.Text.TrimEnd());
        }

        sql.WriteLine();
        var checks = await new DatabaseTestRunner(engine, reporter, QueryKind.ProductionCheck).RunAsync(database, release.Checks, cancellationToken);
        return checks.All(c => c.Passed) ? RunnerExitCode.Succeeded : RunnerExitCode.Refused;
    }

    /// <summary>
    /// <c>migrate restore</c>: puts back a backup a deploy took, under the deploy lock, and proves the schema and every
    /// table's rows equal what the backup recorded. Refused when the backup is unusable; Failed when the restore
    /// rolled back (the database is as it was); NeedsAttention when it completed but could not be proven.
    /// </summary>
    public async Task<DeployReport> RestoreAsync(string connectionVariable, string backupDirectory, string backupId, string reportDirectory, TimeSpan lockWait, CancellationToken cancellationToken)
    {
        var run = new Run("restore", reporter) { Touched = false };
        try
        {
            run.Exit = await RestoreStepsAsync(run, connectionVariable, backupDirectory, backupId, lockWait, cancellationToken);
        }
        catch (DiagnosticException refused) when (!run.Touched)
        {
            run.Exit = run.Refuse(refused.Diagnostics);
        }
        finally
        {
            if (run.Database is not null)
            {
                await run.Database.DisposeAsync();
            }
        }

        return run.Finish(reportDirectory);
    }

    private async Task<RunnerExitCode> RestoreStepsAsync(Run run, string connectionVariable, string backupDirectory, string backupId, TimeSpan lockWait, CancellationToken cancellationToken)
    {
        var backup = DatabaseBackup.Load(backupDirectory, backupId);
        run.Subject = $"backup {backup.Id}";
        run.Backup = new BackupSummary(backup.Id, backup.DumpPath, backup.Bytes, backup.Proof, (long)backup.Duration.TotalMilliseconds);
        await backup.VerifyDumpAsync(cancellationToken);
        run.Database = await ConnectAsync(connectionVariable, cancellationToken);
        if (DatabaseName(backup.Database) != DatabaseName(run.Database.DisplayName))
        {
            return run.Refuse(Diagnostic.Error(
                DiagnosticCodes.BackupOfAnotherDatabase,
                $"backup {backup.Id} was taken of {backup.Database}, and the connection variable names {run.Database.DisplayName}: nothing was touched. " +
                "Check --connection-variable and --backup."));
        }

        await using var deployLock = await run.Database.AcquireDeployLockAsync(lockWait, cancellationToken);
        var restoring = run.Path.Begin(FlowChart.Restore);
        run.Touched = true;
        try
        {
            await run.Database.RestoreAsync(backup, cancellationToken);
        }
        catch (DiagnosticException failed)
        {
            run.Path.Fail(restoring, string.Join(" ", failed.Diagnostics.Select(d => d.Message)));
            foreach (var diagnostic in failed.Diagnostics)
            {
                run.Report(diagnostic);
            }

            // Refused before it began (the dump or the tools), rolled back (as it was), or completed unproven.
            if (failed.Diagnostics.All(d => d.Code is DiagnosticCodes.BackupUnavailable or DiagnosticCodes.BackupToolMissing))
            {
                run.Outcome = "refused: the database was not touched";
                return RunnerExitCode.Refused;
            }

            var rolledBack = failed.Diagnostics.All(d => d.Code == DiagnosticCodes.RestoreFailed);
            run.Outcome = rolledBack ? "restore failed and rolled back: the database is as it was before" : "restore completed but could not be proven: needs a person";
            return rolledBack ? RunnerExitCode.Failed : RunnerExitCode.NeedsAttention;
        }
        catch (Exception unexpected) when (unexpected is not DiagnosticException)
        {
            run.Path.Fail(restoring, Describe(unexpected));
            run.Report(Diagnostic.Error(DiagnosticCodes.StateNeedsPerson, $"the restore of {backup.Id} stopped: {Describe(unexpected)} Check the database by hand, then restore again."));
            run.Outcome = "restore stopped: needs a person";
            return RunnerExitCode.NeedsAttention;
        }

        run.Path.Pass(restoring, $"restored {backup.Id} (taken {backup.TakenAt:u}); {backup.RestoreProof} to the backup");
        run.Outcome = $"restored {backup.Id} and proven";
        reporter.Info($"{run.Database.DisplayName}: backup {backup.Id} restored; {backup.RestoreProof} to the backup.");
        return RunnerExitCode.Succeeded;
    }

    private static void MarkStaging(Run run, ReleaseToDeploy release)
    {
        if (release.StagingRehearsalMs is { } ms)
        {
            run.Path.Mark(FlowChart.RunOnStaging, StepState.Passed, $"at publish: the pending migrations were rehearsed on staging in {ms} ms");
        }
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

    /// <summary>An exception's message with its innermost cause: "NpgsqlTransaction" alone says nothing.</summary>
    private static string Describe(Exception exception)
    {
        var inner = exception;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        var kind = exception is OperationCanceledException ? "cancelled" : exception.GetType().Name;
        return inner == exception ? $"{kind}: {exception.Message}" : $"{kind}: {exception.Message} ({inner.Message})";
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;

    /// <summary>What one run has gathered so far: the path, the migrations' fates, the backup, the diagnostics.</summary>
    private sealed class Run(string verb, Reporter reporter)
    {
        private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

        public FlowPath Path { get; } = new();

        public List<MigrationOutcome> Migrations { get; } = [];

        public List<string> Differences { get; } = [];

        public List<Diagnostic> Diagnostics { get; } = [];

        public ReleaseToDeploy? Release { get; set; }

        public ITargetDatabase? Database { get; set; }

        public BackupSummary? Backup { get; set; }

        /// <summary>True once migrating began: from then on a failure is recovered, not refused.</summary>
        public bool Touched { get; set; }

        public RunnerExitCode Exit { get; set; } = RunnerExitCode.NeedsAttention;

        public string Outcome { get; set; } = "did not finish";

        /// <summary>What the report's title names when no verified release does (a restore names its backup).</summary>
        public string Subject { get; set; } = "(unverified package)";

        public void Report(Diagnostic diagnostic)
        {
            Diagnostics.Add(diagnostic);
            reporter.Report(diagnostic);
        }

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

        public DeployReport Finish(string reportDirectory)
        {
            var report = new DeployReport(
                verb,
                Release?.PackageId ?? Subject,
                Release?.Version ?? "",
                Database?.DisplayName ?? "(not connected)",
                _started,
                DateTimeOffset.UtcNow,
                Exit,
                Outcome,
                Path.Steps,
                Migrations,
                Backup,
                Differences,
                Diagnostics);
            try
            {
                DeployReportWriter.Write(report, reportDirectory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The exit code still tells the truth; the output above is then the only record.
                reporter.Report(Diagnostic.Error(DiagnosticCodes.ReportDirectoryNotWritable, $"the report could not be written to {reportDirectory}: {e.Message}"));
                return report;
            }

            reporter.Info($"Report: {System.IO.Path.Combine(reportDirectory, DeployReportWriter.MarkdownName)} (exit code {(int)Exit}: {Outcome}).");
            return report;
        }
    }
}
