using MigrationTasks.Common;
using MigrationTasks.Scripts;

namespace MigrationTasks.Engines;

/// <summary>
/// SHA-256 of the first N statements of a script. A non-transactional migration that stopped at statement N+1 can
/// resume after the author fixed that statement only if statements 1..N are still the same text.
/// </summary>
public static class StatementChecksum
{
    public static string Of(IReadOnlyList<ScriptStatement> statements, int count) =>
        Sha256.Hex(string.Join('\0', statements.Take(count).Select(s => s.Text)));
}
