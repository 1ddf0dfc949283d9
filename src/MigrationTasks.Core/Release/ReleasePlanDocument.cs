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
        text.AppendLine()
            .AppendLine("## Steps")
            .AppendLine()
            .AppendLine("1. **Verify the package**: `dotnet migrate.dll verify --trust <signer certificate or SHA-256 thumbprint>` checks the signature and every file's SHA-256; it touches no database.")
            .AppendLine("2. **Check the pre-state**: production's history and schema must be the expected state above; anything else stops the release before it touches the database.")
            .AppendLine($"3. **Pre-deployment checks** (each must return no rows): {List(checks)}.")
            .AppendLine(outside.Count > 0
                ? $"4. **Backup** (required): take a backup and prove it restorable. {Names(outside)} run(s) outside a transaction, so only the backup can undo a failure part-way."
                : "4. **Backup** (recommended): take a backup and prove it restorable. Every migration runs in a transaction, but only a backup undoes one that succeeded with wrong data.")
            .AppendLine($"5. **Migrate**: {(pending.Count == 0 ? "nothing is pending; the release changes no schema." : $"{pending.Count} migration(s), in this order:")}");
        if (pending.Count > 0)
        {
            text.AppendLine()
                .AppendLine("   | # | script | statements | runs | if it fails |")
                .AppendLine("   |---|---|---|---|---|");
            for (var i = 0; i < pending.Count; i++)
            {
                var step = pending[i];
                var runs = step.Script.InTransaction ? "in one transaction" : $"outside a transaction ({step.Script.OutsideTransactionReason})";
                var from = step.IsResume ? $", resuming at statement {step.FirstStatement + 1}" : "";
                var fails = step.Script.InTransaction
                    ? "its transaction rolls back; it leaves nothing behind"
                    : "the statements before the failing one stay applied: restore the backup";
                text.AppendLine($"   | {i + 1} | `{step.File.ScriptName}` | {step.Script.Statements.Count}{from} | {runs} | {fails} |");
            }

            text.AppendLine();
        }

        text.AppendLine($"6. **Verify** (each must return no rows, after migrating and while monitoring): {List(verifies)}.")
            .AppendLine()
            .AppendLine("## Rollback")
            .AppendLine()
            .AppendLine("- The first migration fails in its transaction: the database is as it was before the release (exit code 1).")
            .AppendLine("- A later migration fails in its transaction: the ones before it stay applied. Undo them in reverse order with their undo scripts if each has one; otherwise restore the backup.")
            .AppendLine("- A migration outside a transaction fails, or verification fails after migrating: restore the backup from step 4.")
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
