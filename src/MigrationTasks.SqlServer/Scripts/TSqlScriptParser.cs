using System.Runtime.ExceptionServices;
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
    /// <summary>
    /// Parentheses nested deeper than this are refused unparsed. ScriptDom recurses once per level of nesting, and
    /// running out of stack ends the process on the spot (no exception, no diagnostic: exit 134); on a default 1.5 MB
    /// stack about 3,000 open parentheses, 1,600 nested expressions or 400 nested subqueries were enough. No script
    /// needs this many, and the parser's own stack (<see cref="ParserStackSize"/>) holds them with room to spare.
    /// </summary>
    public const int MaxParenthesisDepth = 5_000;

    /// <summary>
    /// The parser's thread's stack. Nesting without parentheses recurses too (CASE in CASE, BEGIN in BEGIN, long chains
    /// of ELSE IF, OR or UNION ALL, which a generated seed script may well hold): this is about forty times the
    /// default, so such chains overflow only far beyond any script's length. It is address space, used only as deep
    /// as the parser goes.
    /// </summary>
    private const int ParserStackSize = 64 * 1024 * 1024;

    /// <summary>The parsed script, or null with every syntax error (MIG2010) when the file does not parse.</summary>
    public static (TSqlScript? Script, IReadOnlyList<Diagnostic> Errors) Parse(SqlServerPlatform platform, string path, string text)
    {
        var parser = platform.CreateParser();
        if (TooDeep(parser, platform, path, text) is { } tooDeep)
        {
            return (null, [tooDeep]);
        }

        var (fragment, errors) = OnParserStack(() => (parser.Parse(new StringReader(text), out var errors), errors));
        if (errors.Count > 0)
        {
            return (null, errors.Select(e => SyntaxError(platform, path, e.Message, e.Number, e.Line, e.Column)).ToList());
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

    /// <summary>
    /// Runs <paramref name="work"/> on a thread with the parser's stack, for the parse and for walks of the tree it
    /// makes, which are as deep as the script is nested.
    /// </summary>
    internal static T OnParserStack<T>(Func<T> work) => OnOwnThread(work, ParserStackSize);

    /// <summary>Runs <paramref name="work"/> on a new thread with a stack of that size; blocks until it is done and rethrows what it throws.</summary>
    internal static T OnOwnThread<T>(Func<T> work, int stackSize)
    {
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    result = work();
                }
                catch (Exception e)
                {
                    // Rethrown on the caller's thread: unhandled here, it would end the process.
                    failure = ExceptionDispatchInfo.Capture(e);
                }
            },
            stackSize)
        {
            Name = "ScriptDom parser",
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result!;
    }

    /// <summary>MIG2010 at the first parenthesis nested deeper than <see cref="MaxParenthesisDepth"/>, or null.</summary>
    private static Diagnostic? TooDeep(TSqlParser parser, SqlServerPlatform platform, string path, string text)
    {
        // Counting the characters is enough for nearly every text; only one that may be too deep is tokenized, so
        // that parentheses in strings and comments do not count.
        var depth = 0;
        var deepest = 0;
        foreach (var c in text)
        {
            depth = c switch { '(' => depth + 1, ')' => Math.Max(depth - 1, 0), _ => depth };
            deepest = Math.Max(deepest, depth);
        }

        if (deepest <= MaxParenthesisDepth)
        {
            return null;
        }

        // The tokenizer is a loop, not a recursion, whatever the nesting.
        depth = 0;
        foreach (var token in parser.GetTokenStream(new StringReader(text), out _))
        {
            depth = token.TokenType switch
            {
                TSqlTokenType.LeftParenthesis => depth + 1,
                TSqlTokenType.RightParenthesis => Math.Max(depth - 1, 0),
                _ => depth,
            };
            if (depth > MaxParenthesisDepth)
            {
                return SyntaxError(
                    platform,
                    path,
                    $"parentheses are nested more than {MaxParenthesisDepth} deep here, deeper than ScriptDom (which reads T-SQL for MigrationTasks " +
                    "and DacFx) can follow. Nothing was parsed: write the expression with less nesting, e.g. split it into steps.",
                    null,
                    token.Line,
                    token.Column);
            }
        }

        return null;
    }

    private static Diagnostic SyntaxError(SqlServerPlatform platform, string path, string message, int? number, int line, int column) =>
        Diagnostic.Error(
            DiagnosticCodes.PlatformScriptSyntax,
            $"T-SQL syntax error ({platform.Name}): {message.TrimEnd()}" + (number is { } n ? $" (ScriptDom {n})" : ""),
            path,
            line,
            column);
}
