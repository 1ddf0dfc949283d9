using System.Data.Common;
using MigrationTasks.Scripts;

namespace MigrationTasks.Engines;

/// <summary>
/// What a zero-rows query's verdict needs from the result sets it produced: the last one's columns, its first rows
/// and its row count, and the statement that produced it. Engines feed it each result set as they read it.
/// </summary>
public sealed class LastResultSet
{
    private const int RowsKept = 10;

    private readonly List<IReadOnlyList<string?>> _rows = [];
    private IReadOnlyList<string> _columns = [];
    private long _rowCount;
    private ScriptStatement? _statement;

    /// <summary>
    /// Reads the reader's current result set, which replaces any earlier one; a statement that returns no columns
    /// (DDL, DML) leaves the earlier one standing. <paramref name="cell"/> turns a non-null value into text.
    /// </summary>
    public async Task ReadAsync(DbDataReader reader, ScriptStatement statement, Func<DbDataReader, int, string> cell, CancellationToken cancellationToken)
    {
        if (reader.FieldCount == 0)
        {
            return;
        }

        _statement = statement;
        _columns = [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)];
        _rows.Clear();
        _rowCount = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            _rowCount++;
            if (_rows.Count < RowsKept)
            {
                _rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(c => reader.IsDBNull(c) ? null : cell(reader, c))]);
            }
        }
    }

    public TestRun ToRun(ScriptFailedException? error, TimeSpan duration) => new(error, _columns, _rows, _rowCount, _statement, duration);
}
