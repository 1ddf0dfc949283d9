namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>
/// One token of a SQL text, as a range of that text. <see cref="IsUnterminated"/> marks a quote or comment that is
/// still open at the end of the text; such a token runs to the end.
/// </summary>
internal readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length, bool IsUnterminated = false)
{
    public int End => Start + Length;
}
