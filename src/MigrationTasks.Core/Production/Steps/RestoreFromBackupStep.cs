using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Release;

namespace MigrationTasks.Production.Steps;

/// <summary>
/// "Rollback", "Restore from backup" and "Investigate failure": after a failure the database goes back to its
/// pre-deploy state, proven. When nothing of the deploy was committed the transaction's rollback is enough (the
/// schema is compared with the pre-state); otherwise the backup is restored, unless other sessions wrote since it
/// was taken: a restore would silently discard their writes, so the run stops for a person instead (exit code 3).
/// </summary>
internal sealed class RestoreFromBackupStep
{
    /// <param name="restoreNeeded">Something of this deploy may be committed; false when everything rolled back.</param>
    public async Task<RunnerExitCode> RecoverAsync(DeployRun run, Deployment deployment, bool restoreNeeded, string why)
    {
        run.Touched = true;
        if (!restoreNeeded && await RolledBackAsync(deployment))
        {
            run.Path.Skip(FlowChart.Restore, "not needed: nothing of this deploy was committed (its transaction rolled back); the schema is proven equal to the pre-state");
            await deployment.RecordAsync(run, DeployState.Failed, $"{why}; rolled back, nothing committed");
            return FailedBack(run, why, "the transaction rolled back");
        }

        if (deployment.Backup is not { } backup)
        {
            run.Path.Mark(FlowChart.Restore, StepState.Failed, "there is no backup of this deploy to restore");
            await deployment.RecordAsync(run, DeployState.NeedsPerson, $"{why}; no backup to restore");
            return run.NeedsPerson(
                $"{why}; no backup to restore: needs a person",
                Diagnostic.Error(DiagnosticCodes.StateNeedsPerson, $"{why}, and there is no backup of this deploy to restore. The report's Migrations table lists what ran."));
        }

        return await RestoreAsync(run, deployment, backup, why);
    }

    /// <summary>Restores <paramref name="backup"/> (the deploy's own, or an earlier run's when finishing its recovery).</summary>
    public async Task<RunnerExitCode> RestoreAsync(DeployRun run, Deployment deployment, DatabaseBackup backup, string why)
    {
        run.Touched = true;
        var database = deployment.Database;
        var restoring = run.Path.Begin(FlowChart.Restore);
        await deployment.RecordAsync(run, DeployState.Restoring, $"{why}; restoring backup {backup.Id}");
        run.Info($"{database.DisplayName}: restoring backup {backup.Id}.");
        var restored = run.Attempt?.With(DeployState.Restored, $"{why}; backup {backup.Id} restored and proven");
        try
        {
            // The restore ends every other session and replaces everything: it must still be this run's turn.
            await deployment.Lock.ProveHeldAsync(CancellationToken.None);
            await database.RestoreAsync(backup, new RestoreOptions(restored, deployment.Options.DiscardLaterWrites), CancellationToken.None);
            run.Attempt = restored ?? run.Attempt;
        }
        catch (WritesSinceBackupException writes)
        {
            run.WritesSinceBackup.AddRange(writes.Writes);
            run.Path.Fail(restoring, "not restored: other sessions wrote since the backup, and restoring would discard their writes");
            run.Path.Mark(FlowChart.Investigate, StepState.Failed, $"{why}; not restored (others wrote since the backup): the database needs a person");
            await deployment.RecordAsync(run, DeployState.NeedsPerson, $"{why}; not restored: other sessions wrote since backup {backup.Id} ({string.Join("; ", writes.Writes)})");
            return run.NeedsPerson(
                $"{why}; not restored, because others wrote since the backup: needs a person",
                Diagnostic.Error(
                    DiagnosticCodes.WritesSinceBackup,
                    $"{why}, and restoring backup {backup.Id} would discard what other sessions wrote since it was taken: {string.Join("; ", writes.Writes)}. " +
                    "The database was left as the report's Migrations table describes. Decide by hand: fix forward, or restore anyway, losing those writes, with " +
                    $"`{backup.RestoreCommand(discardLaterWrites: true)}`."));
        }
        catch (Exception failure) when (failure is not DeployLockLostException)
        {
            var what = Interruptions.Describe(failure);
            run.Path.Fail(restoring, what);
            run.Path.Mark(FlowChart.Investigate, StepState.Failed, $"{why}, and the restore failed: the database needs a person");
            await deployment.RecordAsync(run, DeployState.NeedsPerson, $"{why}; restoring backup {backup.Id} failed: {what}");
            return run.NeedsPerson(
                $"{why}; restore failed: needs a person",
                Diagnostic.Error(
                    DiagnosticCodes.StateNeedsPerson,
                    $"{why}, and restoring backup {backup.Id} failed: {what} The database is in the state the report's Migrations table describes. " +
                    $"Restore by hand: `{backup.RestoreCommand()}` (the dump is {backup.DumpPath})."));
        }

        run.Path.Pass(restoring, $"restored {backup.Id}; {backup.RestoreProof} to the pre-deploy state");
        return FailedBack(run, why, $"backup {backup.Id} restored and proven");
    }

    /// <summary>True when the schema is provably the pre-state (a rolled-back transaction left nothing).</summary>
    private static async Task<bool> RolledBackAsync(Deployment deployment)
    {
        if (deployment.Before is null)
        {
            return false;
        }

        try
        {
            return (await deployment.Database.ReadSchemaAsync(CancellationToken.None)).Hash == deployment.Before.Hash;
        }
        catch (Exception e) when (e is not OperationCanceledException and not DeployLockLostException)
        {
            // Unreadable (the server went away): not proven, so the backup decides.
            return false;
        }
    }

    private static RunnerExitCode FailedBack(DeployRun run, string why, string how)
    {
        run.Path.Mark(FlowChart.Investigate, StepState.Failed, $"{why}; {how}: production is at its pre-deploy state");
        run.Outcome = $"failed and rolled back: {why}; {how}";
        run.Info($"{run.DatabaseName}: {why}; {how}. The database is at its pre-deploy state.");
        return RunnerExitCode.Failed;
    }
}
