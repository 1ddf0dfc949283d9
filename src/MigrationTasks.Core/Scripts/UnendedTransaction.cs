using MigrationTasks.Diagnostics;

namespace MigrationTasks.Scripts;

/// <summary>
/// MIG2027, for every engine: a script that runs outside the runner's transaction opens a transaction of its own and
/// never ends it. Found offline, because at run time nothing would commit what follows the BEGIN: the session would
/// end with it open (the server rolls it back) after the history had recorded the script as applied.
/// </summary>
public static class UnendedTransaction
{
    /// <param name="opener">The statement that opened the transaction, as the message names it, e.g. "BEGIN".</param>
    /// <param name="outsideTransactionReason">Why the script runs outside the runner's transaction.</param>
    /// <param name="unit">What the engine runs one at a time: "statement" or "batch".</param>
    /// <param name="units">Its plural, for the message.</param>
    /// <param name="remedy">What to do, as a sentence.</param>
    public static DiagnosticException Error(
        string path, int line, int column, string opener, string outsideTransactionReason, string unit, string units, string remedy) =>
        new(Diagnostic.Error(
            DiagnosticCodes.UnendedTransaction,
            $"{opener} opens a transaction that the script never ends: the file runs {unit} by {unit} outside the runner's transaction " +
            $"({outsideTransactionReason}), so nothing would commit the {units} after it, and they would be rolled back when the session ends. " +
            $"Nothing was run. {remedy}",
            path,
            line,
            column));
}
