using MigrationTasks.Scripts;

namespace MigrationTasks.Engines;

/// <summary>
/// A statement failed on the server. Engines throw it with the server's own words; Core turns it into a diagnostic
/// at the file and line, with the code of the step that ran it (build, test or production).
/// </summary>
public sealed class ScriptFailedException(
    ScriptStatement statement,
    int statementNumber,
    string errorCode,
    string serverMessage,
    int? fileOffset,
    string? detail,
    string? hint,
    Exception? inner = null,
    bool isLockTimeout = false)
    : Exception(serverMessage, inner)
{
    public ScriptStatement Statement { get; } = statement;

    /// <summary>1-based number of the failing statement in its script.</summary>
    public int StatementNumber { get; } = statementNumber;

    /// <summary>The engine's error code (SQLSTATE for PostgreSQL).</summary>
    public string ErrorCode { get; } = errorCode;

    public string ServerMessage { get; } = serverMessage;

    /// <summary>Where in the file the server points, when it points anywhere.</summary>
    public int? FileOffset { get; } = fileOffset;

    public string? Detail { get; } = detail;

    public string? Hint { get; } = hint;

    /// <summary>
    /// The statement gave up waiting for a lock (the runner's statement lock timeout): nothing is wrong with it, the
    /// table was busy. The runner rolls back and tries again after a pause.
    /// </summary>
    public bool IsLockTimeout { get; } = isLockTimeout;
}
