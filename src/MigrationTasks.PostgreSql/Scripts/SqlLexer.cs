namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>
/// Cuts SQL text into tokens with the rules of psql's lexer (src/fe_utils/psqlscan.l, itself a copy of the server's),
/// so that strings, quoted names, dollar quotes and comments end exactly where psql and the server say they end.
/// Only token boundaries are found; nothing is unescaped. standard_conforming_strings is taken to be on (the default
/// since PostgreSQL 9.1), so only E'' strings have backslash escapes. Every token is found by a forward scan, so
/// reading a whole text is linear in its length.
/// </summary>
internal static class SqlLexer
{
    /// <summary>The first token at or after <paramref name="position"/>; whitespace is skipped, not returned.</summary>
    public static SqlToken Next(string text, int position)
    {
        while (position < text.Length && IsWhitespace(text[position]))
        {
            position++;
        }

        if (position == text.Length)
        {
            return new SqlToken(SqlTokenKind.EndOfText, position, 0);
        }

        var current = text[position];
        var next = CharAt(text, position + 1);
        return current switch
        {
            '-' when next == '-' => LineComment(text, position),
            '/' when next == '*' => BlockComment(text, position),
            '\'' => QuotedWithDoubling(text, position, position + 1, '\'', SqlTokenKind.StringLiteral),
            '"' => QuotedWithDoubling(text, position, position + 1, '"', SqlTokenKind.QuotedIdentifier),
            '$' => DollarToken(text, position),
            '(' => new SqlToken(SqlTokenKind.OpenParenthesis, position, 1),
            ')' => new SqlToken(SqlTokenKind.CloseParenthesis, position, 1),
            ';' => new SqlToken(SqlTokenKind.Semicolon, position, 1),
            '\\' => new SqlToken(SqlTokenKind.Backslash, position, 1),
            _ when char.IsAsciiDigit(current) => NumberToken(text, position),
            _ when IsIdentifierStart(current) => WordOrPrefixedString(text, position),
            _ => new SqlToken(SqlTokenKind.Symbol, position, 1),
        };
    }

    /// <summary>The server's whitespace characters (scanner_isspace); anything else is part of a token.</summary>
    public static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v';

    // Like the server, which works on bytes, every non-ASCII character counts as a letter.
    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= '\u0080';

    private static bool IsDollarTagPart(char c) => IsIdentifierStart(c) || char.IsAsciiDigit(c);

    // '$' is part of an identifier once it has started, which is why a$b and a$$ are words, not dollar quotes.
    private static bool IsIdentifierPart(char c) => IsDollarTagPart(c) || c == '$';

    private static char CharAt(string text, int index) => index < text.Length ? text[index] : '\0';

    private static SqlToken Unterminated(string text, SqlTokenKind kind, int start) =>
        new(kind, start, text.Length - start, IsUnterminated: true);

    private static SqlToken LineComment(string text, int start)
    {
        // psql accepts a lone \r as a line end as well.
        var lineEnd = text.AsSpan(start).IndexOfAny('\n', '\r');
        return new SqlToken(SqlTokenKind.LineComment, start, lineEnd < 0 ? text.Length - start : lineEnd);
    }

    private static SqlToken BlockComment(string text, int start)
    {
        // Unlike the SQL standard's, PostgreSQL's block comments nest.
        var depth = 1;
        var index = start + 2;
        while (index < text.Length)
        {
            var pair = (text[index], CharAt(text, index + 1));
            if (pair == ('/', '*'))
            {
                depth++;
                index += 2;
            }
            else if (pair == ('*', '/'))
            {
                index += 2;
                if (--depth == 0)
                {
                    return new SqlToken(SqlTokenKind.BlockComment, start, index - start);
                }
            }
            else
            {
                index++;
            }
        }

        return Unterminated(text, SqlTokenKind.BlockComment, start);
    }

    /// <summary>A '...' string or "..." name, where a doubled quote stands for one quote character.</summary>
    private static SqlToken QuotedWithDoubling(string text, int start, int contentStart, char quote, SqlTokenKind kind)
    {
        var index = contentStart;
        while (true)
        {
            var closing = text.IndexOf(quote, index);
            if (closing < 0)
            {
                return Unterminated(text, kind, start);
            }

            if (CharAt(text, closing + 1) != quote)
            {
                return new SqlToken(kind, start, closing + 1 - start);
            }

            index = closing + 2;
        }
    }

    /// <summary>An E'...' string: a backslash escapes whatever follows it, so E'\'' and E'\\' are complete strings.</summary>
    private static SqlToken EscapeString(string text, int start, int contentStart)
    {
        for (var index = contentStart; index < text.Length; index++)
        {
            if (text[index] == '\\')
            {
                index++;
            }
            else if (text[index] == '\'')
            {
                if (CharAt(text, index + 1) != '\'')
                {
                    return new SqlToken(SqlTokenKind.StringLiteral, start, index + 1 - start);
                }

                index++;
            }
        }

        return Unterminated(text, SqlTokenKind.StringLiteral, start);
    }

    /// <summary>
    /// A B'...' or X'...' literal. psql ends these at the first quote; a quote right after it then opens a new
    /// string, which ends where a doubled quote would have, so splitting comes out the same either way.
    /// </summary>
    private static SqlToken BitString(string text, int start, int contentStart)
    {
        var closing = text.IndexOf('\'', contentStart);
        return closing < 0
            ? Unterminated(text, SqlTokenKind.StringLiteral, start)
            : new SqlToken(SqlTokenKind.StringLiteral, start, closing + 1 - start);
    }

    private static SqlToken WordOrPrefixedString(string text, int start)
    {
        var second = CharAt(text, start + 1);
        if (second == '\'')
        {
            switch (text[start])
            {
                case 'e' or 'E':
                    return EscapeString(text, start, start + 2);
                case 'b' or 'B' or 'x' or 'X':
                    return BitString(text, start, start + 2);
                case 'n' or 'N':
                    return QuotedWithDoubling(text, start, start + 2, '\'', SqlTokenKind.StringLiteral);
            }
        }

        if (text[start] is 'u' or 'U' && second == '&')
        {
            switch (CharAt(text, start + 2))
            {
                case '\'':
                    return QuotedWithDoubling(text, start, start + 3, '\'', SqlTokenKind.StringLiteral);
                case '"':
                    return QuotedWithDoubling(text, start, start + 3, '"', SqlTokenKind.QuotedIdentifier);
            }
        }

        var end = SkipIdentifierParts(text, start + 1);
        return new SqlToken(SqlTokenKind.Word, start, end - start);
    }

    private static SqlToken NumberToken(string text, int start)
    {
        var end = SkipDigits(text, start);
        if (CharAt(text, end) == '.' && CharAt(text, end + 1) != '.')
        {
            end = SkipDigits(text, end + 1);
        }

        // Letters right after a number belong to it (the server reads 1e, 0x1F and 123abc as one token), so the E of
        // 1e'x' does not start an escape string.
        if (IsIdentifierStart(CharAt(text, end)))
        {
            end = SkipIdentifierParts(text, end);
        }

        return new SqlToken(SqlTokenKind.Number, start, end - start);
    }

    private static SqlToken DollarToken(string text, int start)
    {
        var second = CharAt(text, start + 1);
        if (char.IsAsciiDigit(second))
        {
            var end = SkipDigits(text, start + 1);
            if (IsIdentifierStart(CharAt(text, end)))
            {
                end = SkipIdentifierParts(text, end);
            }

            return new SqlToken(SqlTokenKind.Parameter, start, end - start);
        }

        var tagEnd = start + 1;
        if (IsIdentifierStart(second))
        {
            tagEnd++;
            while (tagEnd < text.Length && IsDollarTagPart(text[tagEnd]))
            {
                tagEnd++;
            }
        }

        if (CharAt(text, tagEnd) != '$')
        {
            // "$tag" without its closing '$' is a lone '$'; psql reads the tag after it as an ordinary word.
            return new SqlToken(SqlTokenKind.Symbol, start, 1);
        }

        var bodyStart = tagEnd + 1;
        var delimiter = text.AsSpan(start, bodyStart - start);
        var closing = text.AsSpan(bodyStart).IndexOf(delimiter, StringComparison.Ordinal);
        return closing < 0
            ? Unterminated(text, SqlTokenKind.DollarQuotedString, start)
            : new SqlToken(SqlTokenKind.DollarQuotedString, start, bodyStart + closing + delimiter.Length - start);
    }

    private static int SkipDigits(string text, int index)
    {
        while (index < text.Length && char.IsAsciiDigit(text[index]))
        {
            index++;
        }

        return index;
    }

    private static int SkipIdentifierParts(string text, int index)
    {
        while (index < text.Length && IsIdentifierPart(text[index]))
        {
            index++;
        }

        return index;
    }
}
