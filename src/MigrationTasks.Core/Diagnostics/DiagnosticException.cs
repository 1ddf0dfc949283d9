namespace MigrationTasks.Diagnostics;

/// <summary>Stops the current verb with one or more diagnostics that are already worded for the user.</summary>
public sealed class DiagnosticException : Exception
{
    public DiagnosticException(Diagnostic diagnostic)
        : this([diagnostic])
    {
    }

    public DiagnosticException(IReadOnlyList<Diagnostic> diagnostics)
        : base(diagnostics.Count > 0 ? diagnostics[0].ToString() : "no diagnostics")
    {
        Diagnostics = diagnostics;
    }

    public IReadOnlyList<Diagnostic> Diagnostics { get; }
}
