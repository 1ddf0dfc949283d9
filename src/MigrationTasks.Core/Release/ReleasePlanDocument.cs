using System.Text;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;

namespace MigrationTasks.Release;

/// <summary>
/// <c>release/plan.md</c>: the release for the people who approve and run it — expected state, the steps in order,
/// which migration can be rolled back by its transaction and which only by restoring the backup taken before it.
/// </summary>
public static class ReleasePlanDocument
{
    /// <param name="undo">Release path of the undo script of each pending version that has one.</param>
    public static string Write(
        ReleaseManifest manifest,
        MigrationBaseline? baseline,
        IReadOnlyList<MigrationStep> pending,
        IReadOnlyDictionary<MigrationVersion, string> undo,
        IReadOnlyList<string> checks,
        IReadOnlyList<string> verifies)
    {
        var text = new StringBuilder()
            .AppendLine($"# Release plan: {manifest.PackageId} {manifest.Version}")
            .AppendLine()
            .AppendLine($"Made {manifest.Created:yyyy-MM-dd HH:mm} UTC for {manifest.Engine}, " +
                        (manifest.SourceRevision is { } revision ? $"from revision `{revision}`." : "outside version control."))
            .AppendLine()
            .AppendLine("## Expected state")
            .AppendLine();
        if (baseline is null)
        {
            text.AppendLine("- Before: **an empty database** — no migration history and no objects of its own (no MigrationBaseline was given).");
        }
        else
        {
            var applied = baseline.AppliedHistory();
            var last = applied.Count == 0 ? "none" : $"the last `{applied[^1].Script}`";
            text.AppendLine($"- Before: the state in `{ReleaseLayout.BaselineName}`, exported {baseline.ExportedAt:yyyy-MM-dd HH:mm} UTC" +
                            $"{(baseline.Database is null ? "" : $" from {baseline.Database}")}: {applied.Count} applied migration(s), {last}; " +
                            $"schema hash `{baseline.SchemaHash}`.");
        }

        text.AppendLine(manifest.ExpectedPostState is { } after
            ? $"- After: schema hash `{after.SchemaHash}` (every migration applied from scratch on a throwaway server)."
            : "- After: not computed (no throwaway server when the package was made, warning MIG5004).");
        if (manifest.RehearsalDuration is { } rehearsal)
        {
            text.AppendLine($"- Rehearsal on staging: the pending migrations took {rehearsal.TotalSeconds:0.###} s.");
        }

        var outside = pending.Where(p => !p.Script.InTransaction).ToList();
        var oneTransaction = outside.Count == 0;
        var lockWait = manifest.StatementLockTimeout is { } timeout
            ? timeout == TimeSpan.Zero ? "no limit (MigrationStatementLockTimeout=0)" : $"{timeout.TotalSeconds:0.###} s (MigrationStatementLockTimeout)"
            : "the runner's default of 2 s";
        text.AppendLine()
            .AppendLine("## Steps")
            .AppendLine()
            .AppendLine("1. **Verify the package**: `dotnet migrate.dll verify --trust <signer certificate or SHA-256 thumbprint>` checks the signature and every file's SHA-256; it touches no database.")
            .AppendLine("2. **Check the pre-state**: production's history and schema must be the expected state above; anything else stops the release before it touches the database. A deploy of this release that did not finish earlier is finished first (verified again, or its backup restored).")
            .AppendLine($"3. **Pre-deployment checks** (each must return no rows): {List(checks)}.")
            .AppendLine(outside.Count > 0
                ? $"4. **Backup** (required): take a backup and prove it restorable. {Names(outside)} run(s) outside a transaction, so only the backup can undo a failure part-way."
                : "4. **Backup** (taken and proven, though a failure needs none): the whole release runs in one transaction; the backup is for what a person may decide after the cutover.")
            .AppendLine(pending.Count == 0
                ? "5. **Migrate**: nothing is pending; the release changes no schema."
                : oneTransaction
                    ? $"5. **Migrate, verify, commit — in one transaction**: the {pending.Count} migration(s) below, then the post-state check and the Verify/ queries of step 6, run in **one transaction** that commits only when verification passed. A failure anywhere — a statement, a failing verification, a lost connection, a kill, a SIGTERM — rolls all of it back: production is exactly as it was, and no restore is needed (exit code 1). To commit each migration on its own instead, deploy with `--transaction-per-migration`."
                    : $"5. **Migrate**: {pending.Count} migration(s), each committing on its own, in this order:");
        if (pending.Count > 0)
        {
            text.AppendLine()
                .AppendLine("   | # | script | statements | runs | if it fails |")
                .AppendLine("   |---|---|---|---|---|");
            for (var i = 0; i < pending.Count; i++)
            {
                var step = pending[i];
                var runs = step.Script.InTransaction
                    ? oneTransaction ? "in the release's transaction" : "in one transaction"
                    : $"outside a transaction ({step.Script.OutsideTransactionReason})";
                var from = step.IsResume ? $", resuming at statement {step.FirstStatement + 1}" : "";
                var fails = oneTransaction
                    ? "the whole release rolls back; nothing stays"
                    : step.Script.InTransaction
                        ? "its transaction rolls back; the migrations before it stay applied: the backup is restored"
                        : "the statements before the failing one stay applied: the backup is restored";
                text.AppendLine($"   | {i + 1} | `{step.File.ScriptName}` | {step.Script.Statements.Count}{from} | {runs} | {fails} |");
            }

            text.AppendLine()
                .AppendLine($"   A statement in a transaction waits at most {lockWait} for a table lock, so that the application's queries never queue behind it for longer; the runner then rolls back and tries again after a growing pause (5 tries; `--lock-wait`, `--lock-retries`), and gives up at the pre-state (MIG6027).")
                .AppendLine();
        }

        text.AppendLine($"6. **Verify** (each must return no rows{(oneTransaction ? ", inside the release's transaction before it commits" : ", after migrating")}, and again while monitoring): {List(verifies)}.")
            .AppendLine()
            .AppendLine("## Rollback")
            .AppendLine()
            .AppendLine(oneTransaction
                ? "- Anything fails before the commit: the transaction rolls back; production is as it was before the release (exit code 1), with no restore."
                : "- The first migration fails in its transaction: the database is as it was before the release (exit code 1).")
            .AppendLine(oneTransaction
                ? "- After the commit (a failing verification while monitoring): the backup is restored, unless other sessions wrote since it was taken (the application kept working): then nothing is restored automatically, since a restore would discard their writes; the deploy stops with exit code 3 and its report lists what would be lost."
                : "- A later migration fails, or verification fails after migrating: the backup from step 4 is restored, unless other sessions wrote since it was taken: then nothing is restored automatically (exit code 3), and the report lists what a restore would discard. `--discard-later-writes` restores anyway.")
            .AppendLine("- A deploy interrupted (killed, the runner's machine lost) is finished by the next run of the same release: it verifies again what committed, or restores the backup it took.")
            .AppendLine("- When the state cannot be restored automatically the deploy stops with exit code 3 and its report says exactly what ran.");
        var undoLines = pending.Where(p => p.File.Version is not null && undo.ContainsKey(p.File.Version))
            .Select(p => $"`{undo[p.File.Version!]}` undoes `{p.File.ScriptName}`")
            .ToList();
        text.AppendLine($"- Undo scripts in this release: {(undoLines.Count == 0 ? "none" : string.Join("; ", undoLines))}.");
        return text.ToString().ReplaceLineEndings("\n");
    }

    private static string List(IReadOnlyList<string> paths) =>
        paths.Count == 0 ? "none in this release" : string.Join(", ", paths.Select(p => $"`{p}`"));

    private static string Names(IEnumerable<MigrationStep> steps) =>
        string.Join(", ", steps.Select(s => $"`{s.File.ScriptName}`"));
}
