using MigrationTasks.Scripts;

namespace MigrationTasks.Engines;

/// <summary>A script split into statements and told whether it can run inside one transaction.</summary>
/// <param name="Path">The file, as diagnostics name it.</param>
/// <param name="Text">The file's text, which the statements' offsets point into.</param>
/// <param name="OutsideTransactionReason">Null when the script runs in one transaction; else why it cannot
/// (e.g. "CREATE INDEX CONCURRENTLY at line 3", or the no-transaction marker).</param>
public sealed record PreparedScript(string Path, string Text, IReadOnlyList<ScriptStatement> Statements, string? OutsideTransactionReason)
{
    public bool InTransaction => OutsideTransactionReason is null;
}
