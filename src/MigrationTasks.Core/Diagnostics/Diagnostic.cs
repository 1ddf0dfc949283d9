using System.Globalization;

namespace MigrationTasks.Diagnostics;

/// <summary>
/// One problem, printed as an MSBuild canonical line (<c>file(line,col): error MIG2001: text</c>) so that ToolTask,
/// CI logs and IDEs place it at the right file and line without any parsing code of ours.
/// </summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, string Code, string Message, string? File = null, int Line = 0, int Column = 0)
{
    public static Diagnostic Error(string code, string message, string? file = null, int line = 0, int column = 0) =>
        new(DiagnosticSeverity.Error, code, message, file, line, column);

    public static Diagnostic Warning(string code, string message, string? file = null, int line = 0, int column = 0) =>
        new(DiagnosticSeverity.Warning, code, message, file, line, column);

    public bool IsError => Severity == DiagnosticSeverity.Error;

    public override string ToString()
    {
        var origin = File is null ? "migrate" : File + Position();
        var category = IsError ? "error" : "warning";
        // One line per diagnostic: MSBuild reads the text up to the line end, so embedded newlines are folded.
        var text = Message.Replace("\r\n", " | ", StringComparison.Ordinal).Replace('\n', '|');
        return $"{origin}: {category} {Code}: {text}";
    }

    private string Position() => Line <= 0
        ? ""
        : Column <= 0
            ? string.Create(CultureInfo.InvariantCulture, $"({Line})")
            : string.Create(CultureInfo.InvariantCulture, $"({Line},{Column})");
}
