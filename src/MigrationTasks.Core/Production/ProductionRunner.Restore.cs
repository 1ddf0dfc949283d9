using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Production.Steps;
using MigrationTasks.Release;

namespace MigrationTasks.Production;

// `migrate restore`: a deploy's backup put back, under the deploy lock, and proven.
public sealed partial class ProductionRunner
{
    /// <summary>
    /// <c>migrate restore</c>: puts back a backup a deploy took, under the deploy lock, and proves the schema and every
    /// table's rows equal what the backup recorded. Refused when the backup is unusable or others wrote since it was
    /// taken (unless <paramref name="discardLaterWrites"/>); Failed when the restore rolled back (the database is as it
    /// was); NeedsAttention when it completed but could not be proven. A deploy attempt that took this backup and
    /// needed a person is recorded as restored.
    /// </summary>
    public async Task<DeployReport> RestoreAsync(
        string connectionVariable, string backupDirectory, string backupId, string reportDirectory, TimeSpan lockWait, bool discardLaterWrites, CancellationToken cancellationToken)
    {
        var run = new DeployRun("restore", reporter);
        try
        {
            run.Exit = ReportDirectoryProblem(run.RunDirectory(reportDirectory)) is { } unwritable
                ? run.Refuse(unwritable)
                : await RestoreStepsAsync(run, connectionVariable, backupDirectory, backupId, lockWait, discardLaterWrites, cancellationToken);
        }
        catch (DiagnosticException refused) when (!run.Touched)
        {
            run.Exit = run.Refuse(refused.Diagnostics);
        }
        catch (DeployLockLostException lost)
        {
            run.Exit = run.NeedsPerson("the deploy lock was lost during the restore", Diagnostic.Error(DiagnosticCodes.DeployLockLost, lost.Message));
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

    private async Task<RunnerExitCode> RestoreStepsAsync(
        DeployRun run, string connectionVariable, string backupDirectory, string backupId, TimeSpan lockWait, bool discardLaterWrites, CancellationToken cancellationToken)
    {
        var backup = DatabaseBackup.Load(backupDirectory, backupId).TakenBy(engine.Name);
        run.Subject = $"backup {backup.Id}";
        run.Backup = BackupSummary.Of(backup);
        await backup.VerifyDumpAsync(cancellationToken);
        run.Database = await ConnectAsync(connectionVariable, cancellationToken);
        if (DatabaseName(backup.Database) != DatabaseName(run.Database.DisplayName))
        {
            return run.Refuse(Diagnostic.Error(
                DiagnosticCodes.BackupOfAnotherDatabase,
                $"backup {backup.Id} was taken of {backup.Database}, and the connection variable names {run.Database.DisplayName}: nothing was touched. " +
                "Check --connection-variable and --backup."));
        }

        if (await run.Database.WhyReadOnlyAsync(cancellationToken) is { } readOnly)
        {
            return run.Refuse(Diagnostic.Error(DiagnosticCodes.ReadOnlyTarget, $"{run.Database.DisplayName} cannot take changes: {readOnly}. Nothing was touched."));
        }

        await using var deployLock = await run.Database.AcquireDeployLockAsync(lockWait, cancellationToken);
        // The deploy attempt that took this backup (if it is in the database's record) is closed by the restore itself.
        var attempt = (await run.Database.ReadDeployAttemptsAsync(cancellationToken)).LastOrDefault(a => a.BackupId == backup.Id);
        var restored = attempt?.With(DeployState.Restored, $"backup {backup.Id} restored by `migrate restore` and proven");
        var restoring = run.Path.Begin(FlowChart.Restore);
        run.Touched = true;
        try
        {
            await run.Database.RestoreAsync(backup, new RestoreOptions(restored, discardLaterWrites), cancellationToken);
            run.Attempt = restored;
        }
        catch (WritesSinceBackupException writes)
        {
            run.WritesSinceBackup.AddRange(writes.Writes);
            run.Path.Fail(restoring, "not restored: other sessions wrote since the backup");
            return run.Refuse(Diagnostic.Error(
                DiagnosticCodes.WritesSinceBackup,
                $"restoring backup {backup.Id} would discard what was written since it was taken: {string.Join("; ", writes.Writes)}. Nothing was touched. " +
                "Pass --discard-later-writes to restore anyway and lose those writes."));
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
        catch (Exception unexpected) when (unexpected is not DiagnosticException and not DeployLockLostException)
        {
            run.Path.Fail(restoring, Interruptions.Describe(unexpected));
            return run.NeedsPerson(
                "restore stopped: needs a person",
                Diagnostic.Error(DiagnosticCodes.StateNeedsPerson, $"the restore of {backup.Id} stopped: {Interruptions.Describe(unexpected)} Check the database by hand, then restore again."));
        }

        run.Path.Pass(restoring, $"restored {backup.Id} (taken {backup.TakenAt:u}); {backup.RestoreProof} to the backup");
        run.Outcome = $"restored {backup.Id} and proven";
        reporter.Info($"{run.Database.DisplayName}: backup {backup.Id} restored; {backup.RestoreProof} to the backup" +
                      (attempt is null ? "." : $"; deploy attempt {attempt.Id} is recorded as restored."));
        return RunnerExitCode.Succeeded;
    }
}
