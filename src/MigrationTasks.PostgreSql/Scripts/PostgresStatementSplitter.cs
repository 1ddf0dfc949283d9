using System.Diagnostics;
using MigrationTasks.Scripts;

namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>
/// Splits a PostgreSQL script into statements where psql would: at semicolons outside parentheses, quotes, dollar
/// quotes, comments and SQL-standard function bodies (<c>BEGIN ATOMIC ... END</c>).
/// </summary>
public static class PostgresStatementSplitter
{
    /// <summary>
    /// The statements of <paramref name="sql"/>, in order. Each text is the exact part of <paramref name="sql"/> from
    /// its first token (leading whitespace and comments left out) to just before its semicolon, trailing whitespace
    /// trimmed, so a position inside it maps back to the file by adding <see cref="ScriptStatement.Offset"/>.
    /// Parts with nothing but whitespace and comments give no statement.
    /// </summary>
    /// <exception cref="ScriptSyntaxException">
    /// A quote, dollar quote or block comment is not closed (reported where it starts), or the script holds a psql
    /// meta-command such as <c>\i</c>, which only psql understands.
    /// </exception>
    public static IReadOnlyList<ScriptStatement> Split(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);

        var positions = new TextPosition(sql);
        var statements = new List<ScriptStatement>();
        var functionBody = new FunctionBodyTracker();
        var parenthesisDepth = 0;
        int? statementStart = null;
        var position = 0;

        while (true)
        {
            var token = SqlLexer.Next(sql, position);
            if (token.Kind == SqlTokenKind.EndOfText)
            {
                break;
            }

            position = token.End;
            if (token.IsUnterminated)
            {
                throw Unterminated(sql, token, positions);
            }

            if (token.Kind == SqlTokenKind.Backslash)
            {
                throw MetaCommand(sql, token, positions);
            }

            if (token.Kind is SqlTokenKind.LineComment or SqlTokenKind.BlockComment)
            {
                continue;
            }

            if (token.Kind == SqlTokenKind.Semicolon && parenthesisDepth == 0 && !functionBody.IsInsideBody)
            {
                if (statementStart is { } start)
                {
                    statements.Add(Statement(sql, start, token.Start, positions));
                }

                statementStart = null;
                functionBody.StatementEnded();
                continue;
            }

            statementStart ??= token.Start;
            switch (token.Kind)
            {
                case SqlTokenKind.OpenParenthesis:
                    parenthesisDepth++;
                    break;
                case SqlTokenKind.CloseParenthesis when parenthesisDepth > 0:
                    // A stray ')' is left for the server to report, as psql does.
                    parenthesisDepth--;
                    break;
                case SqlTokenKind.Word:
                    functionBody.OnWord(sql.AsSpan(token.Start, token.Length), parenthesisDepth);
                    break;
            }
        }

        if (statementStart is { } lastStart)
        {
            statements.Add(Statement(sql, lastStart, sql.Length, positions));
        }

        return statements;
    }

    private static ScriptStatement Statement(string sql, int start, int end, TextPosition positions)
    {
        while (SqlLexer.IsWhitespace(sql[end - 1]))
        {
            end--;
        }

        var (line, column) = positions.At(start);
        return new ScriptStatement(sql[start..end], start, line, column);
    }

    private static ScriptSyntaxException Unterminated(string sql, SqlToken token, TextPosition positions)
    {
        var what = token.Kind switch
        {
            SqlTokenKind.StringLiteral => "quoted string",
            SqlTokenKind.QuotedIdentifier => "quoted identifier",
            SqlTokenKind.DollarQuotedString => "dollar-quoted string " + DollarDelimiter(sql, token.Start),
            SqlTokenKind.BlockComment => "/* comment",
            _ => throw new UnreachableException($"a {token.Kind} token cannot be unterminated"),
        };
        var (line, column) = positions.At(token.Start);
        return new ScriptSyntaxException($"unterminated {what} that starts here", line, column);
    }

    private static string DollarDelimiter(string sql, int start)
    {
        var closingDollar = sql.IndexOf('$', start + 1);
        return sql[start..(closingDollar + 1)];
    }

    private static ScriptSyntaxException MetaCommand(string sql, SqlToken backslash, TextPosition positions)
    {
        var (line, column) = positions.At(backslash.Start);
        return new ScriptSyntaxException(
            $"psql meta-command {MetaCommandName(sql, backslash.Start)} is not supported in a migration: statements "
            + "are sent to the server one by one, without psql; write the SQL it stands for instead",
            line,
            column);
    }

    /// <summary>The command as a user would call it: <c>\i</c>, <c>\set</c>, or one character such as <c>\!</c>.</summary>
    private static string MetaCommandName(string sql, int backslashStart)
    {
        var end = backslashStart + 1;
        if (end < sql.Length && char.IsAsciiLetter(sql[end]))
        {
            while (end < sql.Length && char.IsAsciiLetterOrDigit(sql[end]))
            {
                end++;
            }
        }
        else if (end < sql.Length && !SqlLexer.IsWhitespace(sql[end]))
        {
            end++;
        }

        return sql[backslashStart..end];
    }
}
