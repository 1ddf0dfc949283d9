namespace MigrationTasks.Diagnostics;

/// <summary>
/// Where a verb says what it does: progress lines and diagnostics on standard output (MSBuild canonical format, so a
/// ToolTask turns them into errors and warnings), counting errors for the exit code.
/// </summary>
public sealed class Reporter(TextWriter output)
{
    public int ErrorCount { get; private set; }

    public void Info(string message) => output.WriteLine(message);

    public void Report(Diagnostic diagnostic)
    {
        if (diagnostic.IsError)
        {
            ErrorCount++;
        }

        output.WriteLine(diagnostic.ToString());
    }

    public void Report(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Report(diagnostic);
        }
    }
}
