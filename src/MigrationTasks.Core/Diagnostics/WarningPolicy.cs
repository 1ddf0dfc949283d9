namespace MigrationTasks.Diagnostics;

/// <summary>
/// The project's NoWarn and WarningsAsErrors applied by the CLI itself, the way MSBuild applies them to what a task
/// logs (a code in NoWarn first becomes a message, else WarningsAsErrors or TreatWarningsAsErrors make it an error).
/// A verb needs this when a warning decides whether it writes its output: MSBuild would turn the warning into an
/// error only after the output was written, and the next incremental build would skip the step and hide the error.
/// </summary>
public sealed class WarningPolicy
{
    private readonly HashSet<string> _noWarn;
    private readonly HashSet<string> _asErrors;
    private readonly HashSet<string> _notAsErrors;
    private readonly bool _allAsErrors;

    public WarningPolicy(string? noWarn = null, string? warningsAsErrors = null, string? warningsNotAsErrors = null, bool treatWarningsAsErrors = false)
    {
        _noWarn = Codes(noWarn);
        _asErrors = Codes(warningsAsErrors);
        _notAsErrors = Codes(warningsNotAsErrors);
        _allAsErrors = treatWarningsAsErrors;
    }

    /// <summary>Leaves every warning a warning.</summary>
    public static WarningPolicy None { get; } = new();

    /// <summary>The diagnostic as the project wants it, or null when NoWarn silences it. Errors stay errors.</summary>
    public Diagnostic? Apply(Diagnostic diagnostic)
    {
        if (diagnostic.IsError)
        {
            return diagnostic;
        }

        if (_noWarn.Contains(diagnostic.Code))
        {
            return null;
        }

        var promote = _asErrors.Contains(diagnostic.Code) || (_allAsErrors && !_notAsErrors.Contains(diagnostic.Code));
        return promote ? diagnostic with { Severity = DiagnosticSeverity.Error } : diagnostic;
    }

    public IReadOnlyList<Diagnostic> Apply(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics.Select(Apply).OfType<Diagnostic>().ToList();

    // MSBuild lists codes separated by semicolons or commas, with spaces and empty entries around them.
    private static HashSet<string> Codes(string? list) =>
        new((list ?? "").Split([';', ',', ' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries), StringComparer.OrdinalIgnoreCase);
}
