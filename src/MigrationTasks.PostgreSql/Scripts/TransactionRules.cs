using MigrationTasks.Scripts;

namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>
/// Which statements PostgreSQL (15 and later) refuses inside a transaction block, and the marker with which a
/// script asks to run without one.
/// </summary>
public static class TransactionRules
{
    /// <summary>A line holding only this comment makes a script run outside a transaction.</summary>
    public const string NoTransactionMarker = "-- migrationtasks: no-transaction";

    private const string TransactionControl = "transaction control statement";

    // Enough for the longest pattern below: ALTER TABLE IF EXISTS ONLY s.t DETACH PARTITION s.p CONCURRENTLY.
    private const int WordsToRead = 16;

    /// <summary>
    /// Null when <paramref name="statement"/> can run inside a transaction block, else a short reason such as
    /// "CREATE INDEX CONCURRENTLY". Only the statement text is looked at, so statements that are refused depending on
    /// the database's state count as refused when they may be (DROP SUBSCRIPTION, whose replication slot cannot be
    /// seen from here) and as allowed when they usually are (REINDEX TABLE or CLUSTER of a partitioned table).
    /// Procedures and DO blocks that commit cannot be seen through either.
    /// </summary>
    public static string? WhyNotInTransaction(ScriptStatement statement)
    {
        ArgumentNullException.ThrowIfNull(statement);

        var text = statement.Text;
        // The first word settles most statements (INSERT, UPDATE, COMMENT, SELECT …): reading sixteen words of each
        // would lex nearly every statement of a large seed migration a second time.
        if (!MayBeRefused(WordAt(StatementWords.LeadingWords(text, 1), 0)))
        {
            return null;
        }

        var words = StatementWords.LeadingWords(text, WordsToRead);
        return WordAt(words, 0) switch
        {
            "BEGIN" or "COMMIT" or "END" or "ABORT" => TransactionControl,
            "START" or "PREPARE" when WordAt(words, 1) == "TRANSACTION" => TransactionControl,
            "ROLLBACK" when !IsRollbackToSavepoint(words) => TransactionControl,
            "VACUUM" => "VACUUM",
            "CLUSTER" when NamesNoTable(words) => "CLUSTER without a table name",
            "DISCARD" when WordAt(words, 1) == "ALL" => "DISCARD ALL",
            "REINDEX" => WhyNotReindex(text, words),
            "CREATE" => WhyNotCreate(text, words),
            "DROP" => WhyNotDrop(words),
            "ALTER" => WhyNotAlter(text, words),
            _ => null,
        };
    }

    /// <summary>
    /// True when a line of <paramref name="scriptText"/>, trimmed, is <see cref="NoTransactionMarker"/> (in any
    /// case). Only real comments count: the same text inside a string, a dollar-quoted body or a block comment does not.
    /// </summary>
    public static bool HasNoTransactionMarker(string scriptText)
    {
        ArgumentNullException.ThrowIfNull(scriptText);

        // Nearly every script lacks the marker altogether: one search says so without lexing the whole file.
        if (!scriptText.Contains(NoTransactionMarker, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var position = 0;
        while (true)
        {
            var token = SqlLexer.Next(scriptText, position);
            if (token.Kind == SqlTokenKind.EndOfText)
            {
                return false;
            }

            position = token.End;
            if (token.Kind == SqlTokenKind.LineComment && IsMarkerLine(scriptText, token))
            {
                return true;
            }
        }
    }

    private static string? WhyNotCreate(string text, IReadOnlyList<string> words) => WordAt(words, 1) switch
    {
        "INDEX" when WordAt(words, 2) == "CONCURRENTLY" => "CREATE INDEX CONCURRENTLY",
        "UNIQUE" when WordAt(words, 2) == "INDEX" && WordAt(words, 3) == "CONCURRENTLY" => "CREATE INDEX CONCURRENTLY",
        "DATABASE" => "CREATE DATABASE",
        "TABLESPACE" => "CREATE TABLESPACE",
        // Creating the replication slot cannot be rolled back; connect = false implies create_slot = false.
        "SUBSCRIPTION" when StatementOptions.FindBoolean(text, "create_slot") != false
            && StatementOptions.FindBoolean(text, "connect") != false => "CREATE SUBSCRIPTION with create_slot = true",
        _ => null,
    };

    private static string? WhyNotDrop(IReadOnlyList<string> words) => WordAt(words, 1) switch
    {
        "INDEX" when WordAt(words, 2) == "CONCURRENTLY" => "DROP INDEX CONCURRENTLY",
        "DATABASE" => "DROP DATABASE",
        "TABLESPACE" => "DROP TABLESPACE",
        // Refused only when the subscription has a replication slot, which the script text does not tell.
        "SUBSCRIPTION" => "DROP SUBSCRIPTION",
        _ => null,
    };

    private static string? WhyNotAlter(string text, IReadOnlyList<string> words) => WordAt(words, 1) switch
    {
        "SYSTEM" => "ALTER SYSTEM",
        "DATABASE" when WordAt(words, 3) == "SET" && WordAt(words, 4) == "TABLESPACE" => "ALTER DATABASE ... SET TABLESPACE",
        "SUBSCRIPTION" when WordAt(words, 3) == "REFRESH" => "ALTER SUBSCRIPTION ... REFRESH PUBLICATION",
        // SET, ADD and DROP PUBLICATION refresh the subscription unless told not to.
        "SUBSCRIPTION" when WordAt(words, 3) is "SET" or "ADD" or "DROP"
            && WordAt(words, 4) == "PUBLICATION"
            && StatementOptions.FindBoolean(text, "refresh") != false => "ALTER SUBSCRIPTION ... PUBLICATION with refresh = true",
        "TABLE" when DetachesPartitionConcurrently(words) => "ALTER TABLE ... DETACH PARTITION CONCURRENTLY",
        _ => null,
    };

    private static string? WhyNotReindex(string text, IReadOnlyList<string> words)
    {
        // CONCURRENTLY may also be written in the option list: REINDEX (CONCURRENTLY) TABLE t.
        if (WordAt(words, 2) == "CONCURRENTLY" || StatementOptions.FindBoolean(text, "concurrently") == true)
        {
            return "REINDEX CONCURRENTLY";
        }

        // These commit after each table, so they cannot be part of a larger transaction.
        var target = WordAt(words, 1);
        return target is "SCHEMA" or "DATABASE" or "SYSTEM" ? "REINDEX " + target : null;
    }

    internal static bool IsRollbackToSavepoint(IReadOnlyList<string> words) =>
        WordAt(words, 1) == "TO" || (WordAt(words, 1) is "WORK" or "TRANSACTION" && WordAt(words, 2) == "TO");

    // CLUSTER [VERBOSE] without a table reclusters every table, one transaction each.
    private static bool NamesNoTable(IReadOnlyList<string> words) =>
        words.Count == 1 || (words.Count == 2 && words[1] == "VERBOSE");

    private static bool DetachesPartitionConcurrently(IReadOnlyList<string> words)
    {
        for (var index = 2; index + 1 < words.Count; index++)
        {
            if (words[index] == "DETACH" && words[index + 1] == "PARTITION")
            {
                return words.Skip(index + 2).Contains("CONCURRENTLY");
            }
        }

        return false;
    }

    /// <summary>The first words of the cases of <see cref="WhyNotInTransaction"/>: any other statement is allowed.</summary>
    private static bool MayBeRefused(string firstWord) =>
        firstWord is "BEGIN" or "COMMIT" or "END" or "ABORT" or "START" or "PREPARE" or "ROLLBACK" or "VACUUM"
            or "CLUSTER" or "DISCARD" or "REINDEX" or "CREATE" or "DROP" or "ALTER";

    internal static string WordAt(IReadOnlyList<string> words, int index) => index < words.Count ? words[index] : "";

    private static bool IsMarkerLine(string text, SqlToken comment) =>
        StartsLine(text, comment.Start)
        && text.AsSpan(comment.Start, comment.Length).TrimEnd().Equals(NoTransactionMarker, StringComparison.OrdinalIgnoreCase);

    private static bool StartsLine(string text, int index)
    {
        while (index > 0 && text[index - 1] is ' ' or '\t' or '\f' or '\v')
        {
            index--;
        }

        return index == 0 || text[index - 1] is '\n' or '\r';
    }
}
