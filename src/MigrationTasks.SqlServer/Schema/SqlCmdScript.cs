using System.Text;
using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using MigrationTasks.Migrations;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>
/// A pre- or post-deployment script with its SQLCMD syntax expanded, as SSDT does before it puts the script into the
/// dacpac: <c>:r file</c> includes inlined (quoted or not, <c>\</c> or <c>/</c>, relative to the including file,
/// nested), <c>:setvar name "value"</c> and <c>$(name)</c> substituted, <c>:on error …</c> dropped. Variables inside
/// comments are left alone (SSDT's own script template has <c>$(TableName)</c> in one). Every line of
/// <see cref="Text"/> remembers the file and line it came from, so a syntax error in the expanded script is reported
/// where it was written.
/// </summary>
public sealed partial class SqlCmdScript
{
    private readonly List<Origin> _origins;

    private SqlCmdScript(string text, List<Origin> origins, IReadOnlyList<Diagnostic> diagnostics)
    {
        Text = text;
        _origins = origins;
        Diagnostics = diagnostics;
    }

    /// <summary>The expanded script: what is parsed and what goes into the dacpac.</summary>
    public string Text { get; }

    /// <summary>Undefined variables, missing or cyclic includes, unsupported commands (MIG2020–MIG2024), unreadable files.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; }

    /// <summary>
    /// Expands <paramref name="path"/> with <paramref name="variables"/> defined up front (SqlCmdVariable items and
    /// built-ins such as DatabaseName; names are case-insensitive, as in sqlcmd).
    /// </summary>
    public static SqlCmdScript Expand(string path, IReadOnlyDictionary<string, string> variables)
    {
        var expander = new Expander(variables);
        var diagnostics = new List<Diagnostic>();
        var actual = SourcePath.Resolve(path, diagnostics);
        expander.Diagnostics.AddRange(diagnostics);
        expander.Include(actual, includedFrom: null, line: 0);
        return new SqlCmdScript(expander.Output.ToString(), expander.Origins, expander.Diagnostics);
    }

    /// <summary>A diagnostic about line <see cref="Diagnostic.Line"/> of <see cref="Text"/>, moved to the file and line it came from.</summary>
    public Diagnostic ToSource(Diagnostic diagnostic)
    {
        if (_origins.Count == 0 || diagnostic.Line <= 0)
        {
            return diagnostic;
        }

        var origin = _origins[Math.Min(diagnostic.Line, _origins.Count) - 1];
        return diagnostic with { File = origin.File, Line = origin.Line, Column = origin.ColumnOf(diagnostic.Column) };
    }

    /// <summary>Where a line of the expanded text was written, and the variables substituted in it (to map columns back).</summary>
    private sealed record Origin(string File, int Line, IReadOnlyList<Substitution> Substitutions)
    {
        /// <summary>The column in the written line: shifted by every value before it, or the $(name) an error falls inside.</summary>
        public int ColumnOf(int column)
        {
            var shift = 0;
            foreach (var s in Substitutions)
            {
                if (column > s.ExpandedStart + s.ExpandedLength)
                {
                    shift += s.WrittenLength - s.ExpandedLength;
                }
                else if (column > s.ExpandedStart)
                {
                    return s.WrittenStart + 1;
                }
                else
                {
                    break;
                }
            }

            return column <= 0 ? column : column + shift;
        }
    }

    /// <summary>A $(name) at 0-based <c>WrittenStart</c> in the file, replaced by a value at <c>ExpandedStart</c>.</summary>
    private sealed record Substitution(int WrittenStart, int WrittenLength, int ExpandedStart, int ExpandedLength);

    private enum Lexical
    {
        Code,
        BlockComment,
        String,
        QuotedIdentifier,
        BracketIdentifier,
    }

    private sealed class Expander(IReadOnlyDictionary<string, string> predefined)
    {
        private readonly Dictionary<string, string> _variables = new(predefined, StringComparer.OrdinalIgnoreCase);
        private readonly List<string> _including = [];

        public StringBuilder Output { get; } = new();

        public List<Origin> Origins { get; } = [];

        public List<Diagnostic> Diagnostics { get; } = [];

        public void Include(string path, string? includedFrom, int line)
        {
            string text;
            try
            {
                text = MigrationSource.ReadText(path);
            }
            catch (DiagnosticException e)
            {
                Diagnostics.AddRange(e.Diagnostics);
                return;
            }

            _including.Add(path);
            var state = Lexical.Code;
            var depth = 0;
            var lineNumber = 0;
            foreach (var (content, terminator) in Lines(text))
            {
                lineNumber++;
                var trimmed = content.TrimStart();
                if (state == Lexical.Code && (CommandStart().IsMatch(trimmed) || trimmed.StartsWith("!!", StringComparison.Ordinal)))
                {
                    Command(path, lineNumber, content.Length - trimmed.Length + 1, trimmed);
                    continue;
                }

                var substitutions = new List<Substitution>();
                Output.Append(Substitute(path, lineNumber, content, ref state, ref depth, substitutions)).Append(terminator);
                Origins.Add(new Origin(path, lineNumber, substitutions));
            }

            // An included file without a final newline must not glue its last line to the includer's next one.
            if (includedFrom is not null && Output.Length > 0 && Output[^1] != '\n')
            {
                Output.Append('\n');
            }

            _including.RemoveAt(_including.Count - 1);
        }

        private void Command(string path, int line, int column, string command)
        {
            if (SetVar().Match(command) is { Success: true } setvar)
            {
                var name = setvar.Groups["name"].Value;
                if (setvar.Groups["quoted"].Success)
                {
                    _variables[name] = setvar.Groups["quoted"].Value.Replace("\"\"", "\"", StringComparison.Ordinal);
                }
                else if (setvar.Groups["plain"].Success)
                {
                    _variables[name] = setvar.Groups["plain"].Value;
                }
                else
                {
                    _variables.Remove(name); // sqlcmd: ':setvar name' with no value undefines it
                }

                return;
            }

            if (IncludeCommand().Match(command) is { Success: true } include)
            {
                var target = include.Groups["quoted"].Success ? include.Groups["quoted"].Value : include.Groups["plain"].Value.Trim();
                var state = Lexical.String; // substitute everywhere in the path
                var depth = 0;
                target = Substitute(path, line, target, ref state, ref depth, []);
                var resolved = SourcePath.Resolve(Path.Combine(Path.GetDirectoryName(path)!, SourcePath.Normalize(target)), Diagnostics, path, line);
                if (!File.Exists(resolved))
                {
                    Diagnostics.Add(Diagnostic.Error(
                        DiagnosticCodes.SqlCmdIncludeNotFound,
                        $":r includes '{target}', but '{resolved}' does not exist (a relative path is relative to the including file).",
                        path,
                        line,
                        column));
                    return;
                }

                if (_including.Contains(resolved, StringComparer.Ordinal))
                {
                    var chain = _including.SkipWhile(p => p != resolved).Append(resolved).Select(Path.GetFileName);
                    Diagnostics.Add(Diagnostic.Error(
                        DiagnosticCodes.SqlCmdIncludeCycle,
                        $":r includes '{target}', which is already being included: {string.Join(" -> ", chain)}. Remove this include.",
                        path,
                        line,
                        column));
                    return;
                }

                Include(resolved, path, line);
                return;
            }

            if (OnError().IsMatch(command))
            {
                return; // the deploy decides what happens on an error, not the script
            }

            var malformed = MalformedKnownCommand().IsMatch(command);
            Diagnostics.Add(Diagnostic.Error(
                DiagnosticCodes.SqlCmdUnsupported,
                malformed
                    ? $"the SQLCMD command '{command.Trim()}' is malformed; write ':setvar name \"value\"', ':r path' or ':on error exit'."
                    : $"the SQLCMD command '{command.Trim()}' is not supported in a deployment script (only :setvar, :r and :on error are); remove it.",
                path,
                line,
                column));
        }

        /// <summary>The line with <c>$(name)</c> replaced outside comments; <paramref name="state"/> carries over to the next line.</summary>
        private string Substitute(string path, int line, string content, ref Lexical state, ref int depth, List<Substitution> substitutions)
        {
            var result = new StringBuilder(content.Length);
            var i = 0;
            while (i < content.Length)
            {
                var c = content[i];
                var next = i + 1 < content.Length ? content[i + 1] : '\0';
                switch (state)
                {
                    case Lexical.Code when c == '-' && next == '-':
                        result.Append(content, i, content.Length - i);
                        return result.ToString();
                    case Lexical.Code when c == '/' && next == '*':
                    case Lexical.BlockComment when c == '/' && next == '*':
                        state = Lexical.BlockComment;
                        depth++;
                        result.Append(c).Append(next);
                        i += 2;
                        continue;
                    case Lexical.BlockComment when c == '*' && next == '/':
                        if (--depth == 0)
                        {
                            state = Lexical.Code;
                        }

                        result.Append(c).Append(next);
                        i += 2;
                        continue;
                    case Lexical.BlockComment:
                        result.Append(c);
                        i++;
                        continue;
                    case Lexical.Code when c == '\'':
                        state = Lexical.String;
                        break;
                    case Lexical.Code when c == '"':
                        state = Lexical.QuotedIdentifier;
                        break;
                    case Lexical.Code when c == '[':
                        state = Lexical.BracketIdentifier;
                        break;
                    case Lexical.String when c == '\'':
                    case Lexical.QuotedIdentifier when c == '"':
                    case Lexical.BracketIdentifier when c == ']':
                        if (next == c)
                        {
                            result.Append(c).Append(next); // doubled: an escaped quote, still inside
                            i += 2;
                            continue;
                        }

                        state = Lexical.Code;
                        break;
                }

                if (c == '$' && next == '(' && Variable().Match(content, i) is { Success: true } variable && variable.Index == i)
                {
                    var name = variable.Groups["name"].Value;
                    if (_variables.TryGetValue(name, out var value))
                    {
                        substitutions.Add(new Substitution(i, variable.Length, result.Length, value.Length));
                        result.Append(value);
                    }
                    else
                    {
                        Diagnostics.Add(Diagnostic.Error(
                            DiagnosticCodes.SqlCmdVariableUndefined,
                            $"the SQLCMD variable $({name}) is not defined; add a SqlCmdVariable item for it (with a DefaultValue) or a ':setvar {name} \"value\"' line before this one.",
                            path,
                            line,
                            i + 1));
                        result.Append(variable.Value);
                    }

                    i += variable.Length;
                    continue;
                }

                result.Append(c);
                i++;
            }

            return result.ToString();
        }

        /// <summary>Each line and the line break that ended it (empty for a last line without one), so an unchanged file stays byte-identical.</summary>
        private static IEnumerable<(string Content, string Terminator)> Lines(string text)
        {
            var start = 0;
            while (start < text.Length)
            {
                var end = text.IndexOf('\n', start);
                if (end < 0)
                {
                    yield return (text[start..], "");
                    yield break;
                }

                var contentEnd = end > start && text[end - 1] == '\r' ? end - 1 : end;
                yield return (text[start..contentEnd], text[contentEnd..(end + 1)]);
                start = end + 1;
            }
        }
    }

    // A SQLCMD command starts a line with ':' and a letter (not '::', the old syntax of system functions).
    [GeneratedRegex(@"^:[A-Za-z]")]
    private static partial Regex CommandStart();

    [GeneratedRegex(@"^:setvar(?:\s+(?<name>[\w\-]+)(?:\s+(?:""(?<quoted>(?:[^""]|"""")*)""|(?<plain>\S+)))?)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex SetVar();

    [GeneratedRegex(@"^:r\s+(?:""(?<quoted>[^""]+)""|(?<plain>.+))\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex IncludeCommand();

    [GeneratedRegex(@"^:on\s+error\s+(exit|ignore)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex OnError();

    [GeneratedRegex(@"^:(setvar|r|on)(\s|$)", RegexOptions.IgnoreCase)]
    private static partial Regex MalformedKnownCommand();

    [GeneratedRegex(@"\$\((?<name>[\w\-]+)\)")]
    private static partial Regex Variable();
}
