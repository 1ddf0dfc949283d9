namespace MigrationTasks.Diagnostics;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}
