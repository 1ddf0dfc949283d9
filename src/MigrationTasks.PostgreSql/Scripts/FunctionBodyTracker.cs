using System.Text;

namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>
/// psql's heuristic for SQL-standard function bodies (<c>BEGIN ATOMIC ...; ...; END</c>), whose semicolons must not
/// end the statement. Copied rule for rule from psqlscan.l so that a script splits exactly where psql splits it: in a
/// statement that starts with CREATE [OR REPLACE] FUNCTION|PROCEDURE, outside parentheses, BEGIN opens a block, CASE
/// opens one too when already inside a block (it also closes with END), and END closes one.
/// </summary>
internal sealed class FunctionBodyTracker
{
    // Like psql, remember the initials of the first four words, but only of the words that can make up that prefix;
    // any other word leaves a '\0', so "create or replace function" gives c,o,r,f and "create table" gives c,'\0'.
    private readonly char[] _leadingInitials = new char[4];
    private int _wordCount;
    private int _beginDepth;

    public bool IsInsideBody => _beginDepth > 0;

    public void OnWord(ReadOnlySpan<char> word, int parenthesisDepth)
    {
        if (_wordCount < _leadingInitials.Length && IsPrefixWord(word))
        {
            _leadingInitials[_wordCount] = char.ToLowerInvariant(word[0]);
        }

        _wordCount++;
        if (parenthesisDepth > 0 || !StartsWithCreateFunction())
        {
            return;
        }

        if (Ascii.EqualsIgnoreCase(word, "begin"))
        {
            _beginDepth++;
        }
        else if (Ascii.EqualsIgnoreCase(word, "case"))
        {
            if (_beginDepth > 0)
            {
                _beginDepth++;
            }
        }
        else if (Ascii.EqualsIgnoreCase(word, "end") && _beginDepth > 0)
        {
            _beginDepth--;
        }
    }

    /// <summary>Forgets the words of the statement that just ended (psql does this at a statement-ending semicolon).</summary>
    public void StatementEnded()
    {
        Array.Clear(_leadingInitials);
        _wordCount = 0;
    }

    private static bool IsPrefixWord(ReadOnlySpan<char> word) =>
        Ascii.EqualsIgnoreCase(word, "create")
        || Ascii.EqualsIgnoreCase(word, "function")
        || Ascii.EqualsIgnoreCase(word, "procedure")
        || Ascii.EqualsIgnoreCase(word, "or")
        || Ascii.EqualsIgnoreCase(word, "replace");

    private bool StartsWithCreateFunction()
    {
        var initials = _leadingInitials;
        return initials[0] == 'c'
            && (initials[1] is 'f' or 'p'
                || (initials[1] == 'o' && initials[2] == 'r' && initials[3] is 'f' or 'p'));
    }
}
