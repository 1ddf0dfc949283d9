namespace MigrationTasks.Scripts;

/// <summary>A script that cannot be split into statements (an unterminated string, quoted name or comment).</summary>
public sealed class ScriptSyntaxException(string message, int line, int column) : Exception(message)
{
    public int Line { get; } = line;
    public int Column { get; } = column;
}
