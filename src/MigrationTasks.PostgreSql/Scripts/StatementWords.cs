namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>The first words of a statement, to tell what kind of statement it is without parsing it.</summary>
public static class StatementWords
{
    /// <summary>
    /// Up to <paramref name="max"/> leading words (keywords and identifiers, upper-cased), skipping comments and
    /// whole parenthesized groups such as option lists: <c>REINDEX (VERBOSE) TABLE CONCURRENTLY t</c> gives REINDEX,
    /// TABLE, CONCURRENTLY, T. Other symbols and numbers are skipped too. A double-quoted identifier is one word,
    /// kept exactly as written with its quotes, so that a table named <c>"VACUUM"</c> never reads as the keyword.
    /// Reading stops at a string, a dollar quote, a <c>$1</c> parameter or a semicolon: the words after those are
    /// data or belong to an inner statement, and no longer tell what the statement is.
    /// </summary>
    public static IReadOnlyList<string> LeadingWords(string statementText, int max)
    {
        ArgumentNullException.ThrowIfNull(statementText);
        ArgumentOutOfRangeException.ThrowIfNegative(max);

        var words = new List<string>(max);
        var parenthesisDepth = 0;
        var position = 0;
        while (words.Count < max)
        {
            var token = SqlLexer.Next(statementText, position);
            position = token.End;
            switch (token.Kind)
            {
                case SqlTokenKind.EndOfText:
                    return words;
                case SqlTokenKind.OpenParenthesis:
                    parenthesisDepth++;
                    break;
                case SqlTokenKind.CloseParenthesis:
                    parenthesisDepth = Math.Max(0, parenthesisDepth - 1);
                    break;
                case SqlTokenKind.Word when parenthesisDepth == 0:
                    words.Add(statementText.Substring(token.Start, token.Length).ToUpperInvariant());
                    break;
                case SqlTokenKind.QuotedIdentifier when parenthesisDepth == 0:
                    words.Add(statementText.Substring(token.Start, token.Length));
                    break;
                case SqlTokenKind.StringLiteral or SqlTokenKind.DollarQuotedString or SqlTokenKind.Parameter
                    or SqlTokenKind.Semicolon or SqlTokenKind.Backslash when parenthesisDepth == 0:
                    return words;
            }
        }

        return words;
    }
}
