using System.Text;

namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>Reads boolean options such as <c>WITH (create_slot = false)</c> or <c>(CONCURRENTLY)</c> from a statement.</summary>
internal static class StatementOptions
{
    /// <summary>
    /// The value of boolean option <paramref name="name"/> (lower case) in one of the statement's parenthesized
    /// option lists: null when it is not there; false when written as <c>name = false</c>, <c>name off</c>,
    /// <c>name 0</c> and the like; true otherwise, also when written without a value, as the server reads it.
    /// </summary>
    public static bool? FindBoolean(string statementText, string name)
    {
        var parenthesisDepth = 0;
        var atOptionStart = false;
        var position = 0;
        while (true)
        {
            var token = NextSignificant(statementText, position);
            position = token.End;
            if (token.Kind == SqlTokenKind.EndOfText)
            {
                return null;
            }

            if (atOptionStart && IsName(statementText, token, name))
            {
                return ReadValue(statementText, position);
            }

            if (token.Kind == SqlTokenKind.OpenParenthesis)
            {
                parenthesisDepth++;
            }
            else if (token.Kind == SqlTokenKind.CloseParenthesis)
            {
                parenthesisDepth = Math.Max(0, parenthesisDepth - 1);
            }

            // An option name comes first in its list or right after a comma.
            atOptionStart = token.Kind == SqlTokenKind.OpenParenthesis
                || (parenthesisDepth > 0 && IsSymbol(statementText, token, ','));
        }
    }

    private static bool ReadValue(string text, int position)
    {
        var token = NextSignificant(text, position);
        if (IsSymbol(text, token, '='))
        {
            token = NextSignificant(text, token.End);
        }

        var value = text.AsSpan(token.Start, token.Length);
        return token.Kind switch
        {
            SqlTokenKind.Word => !IsFalse(value),
            SqlTokenKind.StringLiteral when value[0] == '\'' && !token.IsUnterminated => !IsFalse(value[1..^1]),
            SqlTokenKind.Number => value is not "0",
            _ => true,
        };
    }

    // The spellings defGetBoolean accepts for false.
    private static bool IsFalse(ReadOnlySpan<char> value) =>
        Ascii.EqualsIgnoreCase(value, "false") || Ascii.EqualsIgnoreCase(value, "off");

    private static bool IsName(string text, SqlToken token, string name) => token.Kind switch
    {
        SqlTokenKind.Word => Ascii.EqualsIgnoreCase(text.AsSpan(token.Start, token.Length), name),
        SqlTokenKind.QuotedIdentifier => text[token.Start] == '"' && !token.IsUnterminated
            && text.AsSpan(token.Start + 1, token.Length - 2).SequenceEqual(name),
        _ => false,
    };

    private static bool IsSymbol(string text, SqlToken token, char symbol) =>
        token.Kind == SqlTokenKind.Symbol && text[token.Start] == symbol;

    private static SqlToken NextSignificant(string text, int position)
    {
        var token = SqlLexer.Next(text, position);
        while (token.Kind is SqlTokenKind.LineComment or SqlTokenKind.BlockComment)
        {
            token = SqlLexer.Next(text, token.End);
        }

        return token;
    }
}
