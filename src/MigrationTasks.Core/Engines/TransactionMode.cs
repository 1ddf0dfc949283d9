using MigrationTasks.Diagnostics;

namespace MigrationTasks.Engines;

/// <summary>
/// Whether a script runs in one transaction, decided the same way for every engine: it does unless a statement
/// cannot; then it must be made only of such statements, or carry the engine's no-transaction marker, because a
/// half-transactional file would leave an unknowable state on failure (MIG2005 before anything runs).
/// </summary>
public static class TransactionMode
{
    /// <summary>A statement as the decision needs it: why it cannot run in a transaction (null if it can), and where it is.</summary>
    public readonly record struct Statement(string? WhyNotInTransaction, int Line, int Column);

    /// <param name="marker">The engine's no-transaction marker line, for the message.</param>
    /// <param name="unit">What the engine runs one at a time without a transaction: "statement" or "batch".</param>
    /// <param name="units">Its plural, for the message.</param>
    /// <returns>Null for a transactional script, else the reason it runs outside one.</returns>
    public static string? OutsideTransactionReason(string path, bool marked, string marker, string unit, string units, IEnumerable<Statement> script)
    {
        if (marked)
        {
            return $"marked '{marker}'";
        }

        // Read lazily: a marked file's statements need no classifying.
        var statements = script.ToList();
        var blockers = statements.Where(s => s.WhyNotInTransaction is not null).ToList();
        if (blockers.Count == 0)
        {
            return null;
        }

        var first = blockers[0];
        if (blockers.Count == statements.Count)
        {
            return $"{first.WhyNotInTransaction} at line {first.Line}";
        }

        throw new DiagnosticException(Diagnostic.Error(
            DiagnosticCodes.MixedTransactionMode,
            $"{first.WhyNotInTransaction} cannot run inside a transaction, but this file also holds {statements.Count - blockers.Count} statement(s) that " +
            "should run in one. Nothing was run. Move it into a migration of its own, or add the line " +
            $"'{marker}' to run the whole file {unit} by {unit} without a transaction " +
            $"(progress is recorded, and a failure leaves the {units} before it applied).",
            path,
            first.Line,
            first.Column));
    }
}
