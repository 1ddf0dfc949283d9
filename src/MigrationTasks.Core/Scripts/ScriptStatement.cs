namespace MigrationTasks.Scripts;

/// <summary>
/// One statement of a script file, exactly as it is sent to the server (no trailing semicolon, leading comments and
/// whitespace left out) and where it starts in the file, so that a server error maps back to file(line,col).
/// </summary>
/// <param name="Text">The statement text: the file's characters from <paramref name="Offset"/> on.</param>
/// <param name="Offset">0-based character offset of the statement's first character in the file text.</param>
/// <param name="Line">1-based line of the first character.</param>
/// <param name="Column">1-based column of the first character.</param>
public sealed record ScriptStatement(string Text, int Offset, int Line, int Column);
