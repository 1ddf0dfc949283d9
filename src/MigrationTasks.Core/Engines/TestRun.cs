using MigrationTasks.Scripts;

namespace MigrationTasks.Engines;

/// <summary>What one database test did: an error, or the last result set (the failures it found).</summary>
/// <param name="FirstRows">At most the first ten rows, values as text.</param>
/// <param name="ResultStatement">The statement that produced the last result set.</param>
public sealed record TestRun(
    ScriptFailedException? Error,
    IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<string?>> FirstRows,
    long RowCount,
    ScriptStatement? ResultStatement,
    TimeSpan Duration);
