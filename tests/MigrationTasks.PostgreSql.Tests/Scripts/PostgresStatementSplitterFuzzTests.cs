using System.Text;
using MigrationTasks.Diagnostics;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Scripts;
using MigrationTasks.Scripts;
using MigrationTasks.Testing;

namespace MigrationTasks.PostgreSql.Tests.Scripts;

/// <summary>
/// Whatever the text, splitting it ends within the watchdog's time and either gives statements that tile the text
/// (in order, each the exact text at its offset, with only whitespace, comments and semicolons between them) or
/// refuses it with a ScriptSyntaxException at a place in it; preparing it gives a script or a MIG diagnostic.
/// </summary>
[TestFixture]
[Category(Fuzzing.Category)]
public sealed class PostgresStatementSplitterFuzzTests
{
    private static readonly string[] PrepareCodes = [DiagnosticCodes.ScriptSyntax, DiagnosticCodes.MixedTransactionMode, DiagnosticCodes.UnendedTransaction];

    private static readonly IReadOnlyList<(string Name, string Text)> Corpus = SqlFuzzInputs.RealMigrations();

    [Test]
    public void Random_fragments_of_quotes_comments_bodies_and_meta_commands_split_or_are_refused()
    {
        Fuzzing.Run("pg-fragments", 1_500, random => TextFuzz.FromFragments(random, SqlFuzzInputs.Alphabet), SplitsAndPrepares, Encoding.UTF8.GetBytes);
    }

    [Test]
    public void Random_characters_split_or_are_refused()
    {
        Fuzzing.Run("pg-characters", 4_000, random => TextFuzz.FromCharacters(random, SqlFuzzInputs.Alphabet), SplitsAndPrepares, Encoding.UTF8.GetBytes);
    }

    [Test]
    public void Real_migrations_with_random_edits_split_or_are_refused()
    {
        var texts = Corpus.Select(m => m.Text).ToList();
        Fuzzing.Run("pg-mutations", 1_500, random => TextFuzz.Mutated(random, texts, SqlFuzzInputs.Alphabet), SplitsAndPrepares, Encoding.UTF8.GetBytes);
    }

    [Test]
    public void Every_prefix_of_every_real_migration_splits_or_is_refused()
    {
        Assert.That(Corpus, Has.Count.GreaterThan(40), "the Flyway history and PgShop migrations");
        Fuzzing.RunAll("pg-prefixes", TextFuzz.Prefixes(Corpus.Select(m => m.Text)), sql => Splits(sql), Encoding.UTF8.GetBytes);
    }

    private static void SplitsAndPrepares(string sql)
    {
        var statements = Splits(sql);
        try
        {
            var prepared = new PostgresEngine().Prepare("V1__fuzz.sql", sql);
            Fuzzing.Require(statements is not null && prepared.Statements.SequenceEqual(statements), "Prepare's statements are Split's");
        }
        catch (DiagnosticException e)
        {
            Fuzzing.Require(
                e.Diagnostics.Count == 1 && PrepareCodes.Contains(e.Diagnostics[0].Code) && e.Diagnostics[0].File == "V1__fuzz.sql",
                $"Prepare refused with one diagnostic of {string.Join('/', PrepareCodes)} at the file, not {string.Join(" ", e.Diagnostics)}");
            Fuzzing.Require(statements is not null || e.Diagnostics[0].Code == DiagnosticCodes.ScriptSyntax, "a text that does not split is MIG2003");
        }
    }

    /// <summary>The statements, or null when the text is refused; throws when neither holds as it should.</summary>
    private static IReadOnlyList<ScriptStatement>? Splits(string sql)
    {
        IReadOnlyList<ScriptStatement> statements;
        try
        {
            statements = PostgresStatementSplitter.Split(sql);
        }
        catch (ScriptSyntaxException e)
        {
            var lines = sql.Count(c => c == '\n') + 1;
            Fuzzing.Require(e.Line >= 1 && e.Line <= lines && e.Column >= 1, $"refused at ({e.Line},{e.Column}), inside the text's {lines} line(s)");
            return null;
        }

        var end = 0;
        foreach (var statement in statements)
        {
            var (offset, text) = (statement.Offset, statement.Text);
            Fuzzing.Require(offset >= end && text.Length > 0 && offset + text.Length <= sql.Length, $"statement at {offset} is in order and inside the text");
            Fuzzing.Require(string.CompareOrdinal(sql, offset, text, 0, text.Length) == 0, $"statement at {offset} is the text there");
            Fuzzing.Require(!IsWhitespace(text[0]) && !IsWhitespace(text[^1]), $"statement at {offset} is trimmed");
            Fuzzing.Require((statement.Line, statement.Column) == Position(sql, offset), $"statement at {offset} is at its line and column");
            Fuzzing.Require(PostgresStatementSplitter.Split(sql[end..offset]).Count == 0, $"only whitespace, comments and semicolons before {offset}");
            Fuzzing.Require(PostgresStatementSplitter.Split(text).Select(s => s.Text).SequenceEqual([text]), $"statement at {offset} splits to itself");
            end = offset + text.Length;
        }

        Fuzzing.Require(PostgresStatementSplitter.Split(sql[end..]).Count == 0, "only whitespace, comments and semicolons after the last statement");
        return statements;
    }

    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v';

    private static (int Line, int Column) Position(string text, int offset)
    {
        var lineStart = text.LastIndexOf('\n', Math.Max(offset - 1, 0), offset) + 1;
        return (text.AsSpan(0, offset).Count('\n') + 1, offset - lineStart + 1);
    }
}
