using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Migrations;

/// <summary>
/// Compares the sources with a database's history and decides what to apply. Every refusal is found here, before
/// the first statement runs: an applied file whose bytes changed, a pending version below an applied one, a
/// half-applied non-transactional file that was edited since.
/// </summary>
public static class MigrationPlanner
{
    public static MigrationPlan Plan(IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations, IReadOnlyList<HistoryEntry> history)
    {
        var errors = new List<Diagnostic>();
        var warnings = new List<Diagnostic>();
        var pending = new List<MigrationStep>();

        // The newest row decides a script's state: a failed attempt after a success cannot exist (a success is
        // final), and a later retry supersedes an earlier failure.
        var latestByVersion = history.Where(h => h.Version is not null)
            .GroupBy(h => h.Version!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(h => h.Id)!, StringComparer.Ordinal);
        var latestRepeatable = history.Where(h => h.Version is null)
            .GroupBy(h => h.Script, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Where(h => h.Outcome == HistoryOutcome.Success).MaxBy(h => h.Id), StringComparer.Ordinal);

        var highestApplied = latestByVersion.Values
            .Where(h => h.Outcome == HistoryOutcome.Success)
            .Select(h => MigrationVersion.Parse(h.Version!))
            .Max();

        foreach (var (file, script) in migrations.Where(m => m.File.Kind == MigrationKind.Versioned))
        {
            var version = file.Version!.Canonical;
            if (!latestByVersion.TryGetValue(version, out var row))
            {
                if (highestApplied is not null && file.Version!.CompareTo(highestApplied) < 0)
                {
                    errors.Add(Diagnostic.Error(
                        DiagnosticCodes.OutOfOrderMigration,
                        $"{file.ScriptName} (version {version}) is pending but version {highestApplied.Canonical} is already applied. " +
                        "Give it a version above the highest applied one, so that every database receives migrations in one order.",
                        file.Path));
                    continue;
                }

                pending.Add(new MigrationStep(file, script));
                continue;
            }

            switch (row.Outcome)
            {
                case HistoryOutcome.Success when row.Checksum != file.Checksum:
                    errors.Add(Diagnostic.Error(
                        DiagnosticCodes.AppliedMigrationChanged,
                        $"{file.ScriptName} was applied on {row.FinishedAt:u} with SHA-256 {row.Checksum} but the file now has {file.Checksum}. " +
                        "An applied migration must not change: restore the file and put the change in a new migration.",
                        file.Path,
                        1,
                        1));
                    break;
                case HistoryOutcome.Success:
                    break;
                case HistoryOutcome.Failed or HistoryOutcome.Running when row.StatementsApplied == 0:
                    pending.Add(new MigrationStep(file, script));
                    break;
                case HistoryOutcome.Failed or HistoryOutcome.Running
                    when row.AppliedStatementsChecksum != StatementChecksum.Of(script.Statements, row.StatementsApplied):
                    errors.Add(Diagnostic.Error(
                        DiagnosticCodes.PartialMigrationChanged,
                        $"{file.ScriptName} ran outside a transaction and stopped after statement {row.StatementsApplied} of {row.StatementsTotal} " +
                        $"(history row {row.Id}: {row.Error ?? "no error recorded"}); statements it already ran have changed since, so it cannot resume. " +
                        $"Undo the first {row.StatementsApplied} statement(s) by hand, delete history row {row.Id}, and build again.",
                        file.Path,
                        1,
                        1));
                    break;
                default:
                    warnings.Add(Diagnostic.Warning(
                        DiagnosticCodes.ResumingPartialMigration,
                        $"{file.ScriptName} stopped after statement {row.StatementsApplied} of {row.StatementsTotal} earlier; resuming at statement {row.StatementsApplied + 1}.",
                        file.Path));
                    pending.Add(new MigrationStep(file, script, row.StatementsApplied));
                    break;
            }
        }

        var known = migrations.Where(m => m.File.Kind == MigrationKind.Versioned)
            .Select(m => m.File.Version!.Canonical)
            .ToHashSet(StringComparer.Ordinal);
        warnings.AddRange(latestByVersion.Values
            .Where(h => h.Outcome == HistoryOutcome.Success && !known.Contains(h.Version!))
            .OrderBy(h => h.Id)
            .Select(h => Diagnostic.Warning(
                DiagnosticCodes.AppliedMigrationMissing,
                $"version {h.Version} ({h.Script}) is applied to the database but no migration file provides it; restore the file if it was deleted by mistake.")));

        foreach (var (file, script) in migrations.Where(m => m.File.Kind == MigrationKind.Repeatable))
        {
            if (!latestRepeatable.TryGetValue(file.ScriptName, out var row) || row is null || row.Checksum != file.Checksum)
            {
                pending.Add(new MigrationStep(file, script));
            }
        }

        if (errors.Count > 0)
        {
            throw new DiagnosticException([.. errors, .. warnings]);
        }

        return new MigrationPlan(pending, warnings);
    }
}
