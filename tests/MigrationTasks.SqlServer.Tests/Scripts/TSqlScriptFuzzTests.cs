using System.Text;
using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.Testing;

namespace MigrationTasks.SqlServer.Tests.Scripts;

/// <summary>
/// Whatever the text, preparing a T-SQL script (ScriptDom's parse, the GO batches, the transaction rules) ends within
/// the watchdog's time and gives batches that are the exact text at their offsets, in order, or MIG diagnostics.
/// </summary>
[TestFixture]
[Category(Fuzzing.Category)]
public sealed class TSqlScriptFuzzTests
{
    private static readonly string[] PrepareCodes = [DiagnosticCodes.PlatformScriptSyntax, DiagnosticCodes.MixedTransactionMode, DiagnosticCodes.UnendedTransaction];

    private static readonly TextFuzz.Alphabet Alphabet = new(
        [
            "'", "''", "'it''s'", "N'", "N'x;y'", "[", "]", "]]", "[a]]b]", "\"", "\"q\"", "/*", "*/", "/* a /* nested */ b */", "--", "-- c\n",
            "\nGO\n", "GO", "\ngo 2\n", "\nGO -- c\n", ";", "(", ")", ",", ".", "@", "@@TRANCOUNT", "@x", "#t", "$(var)", ":r x.sql", ":setvar a 1",
            "BEGIN", "END", "BEGIN TRAN", "BEGIN TRANSACTION t1", "COMMIT", "COMMIT TRAN", "ROLLBACK", "ROLLBACK TRAN s1", "SAVE TRAN s1",
            "BEGIN TRY", "END TRY", "BEGIN CATCH", "END CATCH", "THROW;", "IF 1 = 1", "ELSE", "WHILE 1 = 0", "CASE WHEN 1 = 1 THEN 1 END",
            "CREATE PROCEDURE dbo.p AS", "CREATE TABLE dbo.t (id int)", "ALTER DATABASE CURRENT SET RECOVERY FULL", "SELECT 1", "PRINT N'x'",
            "DECLARE @x int = 0", "EXEC dbo.p", "INSERT INTO dbo.t VALUES (1)", "CREATE FULLTEXT CATALOG c", "-- migrationtasks: no-transaction\n",
            " ", "\n", "\r", "\r\n", "\t", "\0", "\u0001", "\u001a", "\u0085", "\u00a0", "\u2028", "\ufeff", "é", "日本", "😀", "\ud800", "\udc00",
            "0x", "0xFF", "1e", "1.5e+", "$1", "N", "\\",
        ],
        "'\"[];()/*-\n\r\t GgOoNn@#$:.,0123456789");

    private static readonly IReadOnlyList<string> Corpus = [.. Directory
        .EnumerateFiles(RepositoryPaths.SampleProject("SqlShop"), "*.sql", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal)
        .Select(File.ReadAllText)];

    [Test]
    public void Random_fragments_of_batches_quotes_comments_and_transactions_prepare_or_are_refused()
    {
        Fuzzing.Run("tsql-fragments", 150, random => TextFuzz.FromFragments(random, Alphabet), Prepares, Encoding.UTF8.GetBytes);
    }

    [Test]
    public void Random_characters_prepare_or_are_refused()
    {
        Fuzzing.Run("tsql-characters", 600, random => TextFuzz.FromCharacters(random, Alphabet), Prepares, Encoding.UTF8.GetBytes);
    }

    [Test]
    public void SqlShop_scripts_with_random_edits_prepare_or_are_refused()
    {
        Assert.That(Corpus, Has.Count.GreaterThan(15), "the SqlShop sample's scripts");
        Fuzzing.Run("tsql-mutations", 200, random => TextFuzz.Mutated(random, Corpus, Alphabet), Prepares, Encoding.UTF8.GetBytes);
    }

    private static void Prepares(string sql)
    {
        try
        {
            var script = new SqlServerEngine().Prepare("V1__fuzz.sql", sql);
            var end = 0;
            foreach (var batch in script.Statements)
            {
                var (offset, text) = (batch.Offset, batch.Text);
                Fuzzing.Require(offset >= end && text.Length > 0 && offset + text.Length <= sql.Length, $"batch at {offset} is in order and inside the text");
                Fuzzing.Require(string.CompareOrdinal(sql, offset, text, 0, text.Length) == 0, $"batch at {offset} is the text there");
                Fuzzing.Require(batch.Line >= 1 && batch.Column >= 1, $"batch at {offset} has a line and column");
                end = offset + text.Length;
            }
        }
        catch (DiagnosticException e)
        {
            Fuzzing.Require(
                e.Diagnostics.Count > 0 && e.Diagnostics.All(d => PrepareCodes.Contains(d.Code) && d.File == "V1__fuzz.sql" && d.Line >= 1),
                $"Prepare refused with {string.Join('/', PrepareCodes)} at a line of the file, not {string.Join(" ", e.Diagnostics)}");
        }
    }
}
