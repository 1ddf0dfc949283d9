using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;

namespace MigrationTasks.Production;

/// <summary>What a deploy does first, given what the database's deploy history says about earlier attempts.</summary>
public enum ResumeKind
{
    /// <summary>No earlier attempt is open: judge the pre-state and deploy.</summary>
    Deploy,

    /// <summary>This exact release was deployed and verified: nothing to do.</summary>
    AlreadyDeployed,

    /// <summary>Every migration of this release is applied, but no run verified it (an older runner, or a person): verify now.</summary>
    VerifyApplied,

    /// <summary>An earlier run of this release committed every migration and stopped before its verification passed: verify now.</summary>
    Reverify,

    /// <summary>An earlier run of this release began a restore of its backup that was not seen to finish: finish it.</summary>
    FinishRestore,

    /// <summary>An earlier run of this release stopped after committing part of it: restore its backup, as it would have.</summary>
    RecoverInterrupted,

    /// <summary>An earlier attempt needs a person, or one of another release is unfinished: nothing may run (exit code 3).</summary>
    NeedsPerson,
}

/// <summary>The decision, the attempt it is about, and why, in words for the report.</summary>
/// <param name="Abandoned">An earlier attempt that stopped before it committed anything: it is closed as failed, and the deploy goes ahead.</param>
public sealed record ResumeDecision(ResumeKind Kind, DeployAttempt? Attempt, string Reason, DeployAttempt? Abandoned = null);

/// <summary>
/// Reads an open deploy attempt the way its run would have finished it. A release is deployed only when a run
/// verified it: a kill during Verify/ leaves "migrated" and the next run verifies again; a kill during a restore
/// leaves "restoring" and the next run restores again; an attempt that needed a person blocks every deploy until
/// a person says so (<c>migrate resolve</c>) or restores its backup (<c>migrate restore</c>).
/// </summary>
public static class DeployResumption
{
    public static ResumeDecision Decide(
        ReleaseToDeploy release, IReadOnlyList<MigrationFile> migrations, IReadOnlyList<DeployAttempt> attempts, IReadOnlyList<HistoryEntry> history)
    {
        DeployAttempt? abandoned = null;
        if (attempts.LastOrDefault(a => a.IsOpen) is { } open)
        {
            var same = open.Release == release.Fingerprint;
            var what = $"deploy attempt {open.Id} of {open.PackageId} {open.PackageVersion} (started {open.StartedAt:u} on {open.RunnerHost})";
            var committed = history.Where(h => h.DeployId == open.Id && (h.Outcome == HistoryOutcome.Success || h.StatementsApplied > 0)).ToList();
            switch (open.State)
            {
                case DeployState.NeedsPerson:
                    return new ResumeDecision(ResumeKind.NeedsPerson, open,
                        $"{what} needs a person: {open.Detail} Nothing runs until that is dealt with: restore its backup with " +
                        (open.BackupId is null
                            ? "`migrate restore`"
                            : $"`{DatabaseBackup.RestoreCommandFor(release.Engine, open.BackupDirectory ?? ".", open.BackupId)}`") +
                        ", or, once the database is right again, say so with `migrate resolve --reason \"…\"`.");
                case DeployState.Started when committed.Count == 0:
                    // It died before committing anything (the server rolled back its transaction): close it and go on.
                    abandoned = open.With(DeployState.Failed, $"interrupted before anything was committed (found by a later run); {open.Detail}".TrimEnd(' ', ';'));
                    break;
                case var _ when !same:
                    return new ResumeDecision(ResumeKind.NeedsPerson, open,
                        $"{what} did not finish ({DeployAttempt.StateName(open.State)}: {open.Detail}). Run that release's deploy again to finish it " +
                        "(it verifies again, or restores its backup), or deal with it by hand and say so with `migrate resolve --reason \"…\"`. This release was not started.");
                case DeployState.Restoring:
                    return new ResumeDecision(ResumeKind.FinishRestore, open,
                        $"{what} was restoring its backup {open.BackupId} when it stopped: the restore runs again (it is all or nothing).");
                case DeployState.Migrated:
                    return new ResumeDecision(ResumeKind.Reverify, open, $"{what} committed every migration but its verification did not pass: verifying again.");
                default:
                    // Started, and something committed: by migration, or one statement at a time.
                    var all = migrations.All(m => committed.Any(h => h.Script == m.ScriptName && h.Outcome == HistoryOutcome.Success));
                    return all
                        ? new ResumeDecision(ResumeKind.Reverify, open, $"{what} committed every migration and stopped before its verification passed: verifying again.")
                        : new ResumeDecision(ResumeKind.RecoverInterrupted, open,
                            $"{what} stopped after committing {string.Join(", ", committed.Select(h => h.Script).Distinct())}: its backup {open.BackupId} is restored, as that run would have done.");
            }
        }

        if (attempts.Any(a => a.State == DeployState.Verified && a.Release == release.Fingerprint))
        {
            return new ResumeDecision(ResumeKind.AlreadyDeployed, null, "this release was deployed and verified", abandoned);
        }

        return new ResumeDecision(ResumeKind.Deploy, null, "", abandoned);
    }
}
