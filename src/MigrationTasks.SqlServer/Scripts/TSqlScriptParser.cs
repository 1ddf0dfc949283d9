using MigrationTasks.Diagnostics;
using MigrationTasks.Scripts;
using MigrationTasks.SqlServer.Schema;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Scripts;

/// <summary>
/// Parses T-SQL with ScriptDom for one <see cref="SqlServerPlatform"/>: every syntax error of a file at once, each at
/// file(line,col), and the file's batches (split on GO) as the server receives them.
/// </summary>
public static class TSqlScriptParser
{
    /// <summary>The parsed script, or null with every syntax error (MIG2010) when the file does not parse.</summary>
    public static (TSqlScript? Script, IReadOnlyList<Diagnostic> Errors) Parse(SqlServerPlatform platform, string path, string text)
    {
        var fragment = platform.CreateParser().Parse(new StringReader(text), out var errors);
        if (errors.Count > 0)
        {
            return (null, errors.Select(e => SyntaxError(platform, path, e)).ToList());
        }

        return ((TSqlScript)fragment, []);
    }

    /// <summary>
    /// The batches of a parsed script: each one's text exactly as it is sent (the GO lines and the comments before
    /// its first statement left out) and where it starts, so that a server error maps back to file(line,col).
    /// </summary>
    public static IReadOnlyList<ScriptStatement> Batches(TSqlScript script, string text) =>
        script.Batches
            .Where(b => b.Statements.Count > 0)
            .Select(b => new ScriptStatement(text.Substring(b.StartOffset, b.FragmentLength), b.StartOffset, b.StartLine, b.StartColumn))
            .ToList();

    private static Diagnostic SyntaxError(SqlServerPlatform platform, string path, ParseError error) =>
        Diagnostic.Error(
            DiagnosticCodes.TSqlSyntax,
            $"T-SQL syntax error ({platform.Name}): {error.Message.TrimEnd()} (ScriptDom {error.Number})",
            path,
            error.Line,
            error.Column);
}
