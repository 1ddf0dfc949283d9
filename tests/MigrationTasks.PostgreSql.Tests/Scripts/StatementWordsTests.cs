using MigrationTasks.PostgreSql.Scripts;

namespace MigrationTasks.PostgreSql.Tests.Scripts;

public sealed class StatementWordsTests
{
    [Test]
    public void Parenthesized_groups_are_skipped_whole()
    {
        Assert.That(
            StatementWords.LeadingWords("REINDEX (VERBOSE, TABLESPACE (x)) TABLE CONCURRENTLY t", 10),
            Is.EqualTo(new[] { "REINDEX", "TABLE", "CONCURRENTLY", "T" }));
    }

    [Test]
    public void Comments_are_skipped_and_words_are_upper_cased()
    {
        Assert.That(
            StatementWords.LeadingWords("/* a */ create -- b\n unique/* c */index", 10),
            Is.EqualTo(new[] { "CREATE", "UNIQUE", "INDEX" }));
    }

    [Test]
    public void No_more_than_the_requested_number_of_words_is_read()
    {
        Assert.That(StatementWords.LeadingWords("ALTER TABLE t ADD COLUMN c int", 3), Is.EqualTo(new[] { "ALTER", "TABLE", "T" }));
        Assert.That(StatementWords.LeadingWords("VACUUM", 0), Is.Empty);
    }

    [Test]
    public void Symbols_and_numbers_are_skipped()
    {
        Assert.That(
            StatementWords.LeadingWords("ALTER TABLE s.t ALTER COLUMN c SET STATISTICS 100", 10),
            Is.EqualTo(new[] { "ALTER", "TABLE", "S", "T", "ALTER", "COLUMN", "C", "SET", "STATISTICS" }));
    }

    [TestCase("SELECT 'VACUUM' FROM t")]
    [TestCase("SELECT E'x' FROM t")]
    [TestCase("SELECT $$VACUUM$$ FROM t")]
    [TestCase("SELECT $1 FROM t")]
    [TestCase("SELECT; VACUUM")]
    public void Reading_stops_at_a_string_a_dollar_or_a_semicolon(string statement)
    {
        Assert.That(StatementWords.LeadingWords(statement, 10), Is.EqualTo(new[] { "SELECT" }));
    }

    [Test]
    public void A_quoted_identifier_is_one_word_kept_as_written()
    {
        Assert.That(
            StatementWords.LeadingWords("DROP TABLE \"My \"\"Table\"\"\" CASCADE", 10),
            Is.EqualTo(new[] { "DROP", "TABLE", "\"My \"\"Table\"\"\"", "CASCADE" }));
    }

    [Test]
    public void Dollars_inside_words_belong_to_the_word()
    {
        Assert.That(
            StatementWords.LeadingWords("SELECT a$b, c$$ FROM t", 10),
            Is.EqualTo(new[] { "SELECT", "A$B", "C$$", "FROM", "T" }));
    }
}
