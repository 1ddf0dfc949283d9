using MigrationTasks.Diagnostics;

namespace MigrationTasks.Cli;

/// <summary>
/// <c>@file</c> response files, as the MSBuild task writes them (MigrationTool): one argument per line, so that a line
/// holding spaces (a path) stays one argument and MSBuild can pass thousands of item paths without hitting a
/// command-line length limit. Empty lines are skipped; nothing is unquoted or split; a line is never expanded again.
/// An <c>@text</c> that names no file stays as it is (a <c>--reason</c> may begin with '@').
/// </summary>
internal static class ResponseFiles
{
    public static IReadOnlyList<string> Expand(IEnumerable<string> args)
    {
        var expanded = new List<string>();
        foreach (var arg in args)
        {
            if (arg.StartsWith('@') && File.Exists(arg[1..]))
            {
                expanded.AddRange(Read(arg[1..]).Where(line => line.Length > 0));
            }
            else
            {
                expanded.Add(arg);
            }
        }

        return expanded;
    }

    private static string[] Read(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.InvalidOption,
                $"the response file {path} cannot be read: {e.Message} Make it readable, or pass its arguments on the command line."));
        }
    }
}
