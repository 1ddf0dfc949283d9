using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Scripts;

namespace MigrationTasks.SqlServer.Tests.Scripts;

/// <summary>
/// Deep nesting used to overflow ScriptDom's recursive parser, which ends the process (exit 134) with no diagnostic.
/// Each case here runs on a 1 MB stack, smaller than any caller's, to show the parser no longer depends on it.
/// </summary>
public sealed class TSqlScriptParserTests
{
    [Test]
    public void Parentheses_nested_deeper_than_the_parser_can_follow_are_MIG2010_at_the_first_one_too_deep()
    {
        var depth = TSqlScriptParser.MaxParenthesisDepth * 4;
        var sql = "SELECT 1;\n-- (((( in a comment do not count\nSELECT " + new string('(', depth) + "1" + new string(')', depth) + ";\n";

        var e = Assert.Throws<DiagnosticException>(() => OnSmallStack(() => Prepare(sql)))!;

        Assert.That(e.Diagnostics.Single().ToString(), Does.StartWith(
            $"V1__deep.sql(3,{8 + TSqlScriptParser.MaxParenthesisDepth}): error MIG2010: T-SQL syntax error (Sql160): parentheses are nested more than 5000 deep here"));
    }

    [Test]
    public void Parentheses_left_open_by_the_thousand_are_a_syntax_error_not_a_crash()
    {
        var e = Assert.Throws<DiagnosticException>(() => OnSmallStack(() => Prepare(new string('(', 4_000))))!;

        Assert.That(e.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.PlatformScriptSyntax));
    }

    [TestCase("subqueries", 2_000)]
    [TestCase("case", 3_000)]
    [TestCase("union", 40_000)]
    [TestCase("else if", 10_000)]
    public void Nesting_and_chains_far_beyond_what_the_default_stack_holds_parse(string kind, int count)
    {
        var sql = kind switch
        {
            "subqueries" => "SELECT " + string.Concat(Enumerable.Repeat("(SELECT ", count)) + "1" + new string(')', count),
            "case" => "SELECT " + string.Concat(Enumerable.Repeat("CASE WHEN 1 = 1 THEN ", count)) + "1" + string.Concat(Enumerable.Repeat(" END", count)),
            "union" => "INSERT INTO dbo.t (a)\n" + string.Join("\nUNION ALL ", Enumerable.Range(0, count).Select(i => $"SELECT {i}")),
            _ => "-- migrationtasks: no-transaction\nDECLARE @x int = 1;\n"
                 + string.Join("\nELSE ", Enumerable.Range(0, count).Select(i => $"IF @x = {i} BEGIN TRANSACTION")) + "\nCOMMIT;\n",
        };

        var script = OnSmallStack(() => Prepare(sql));

        Assert.That(script.Statements, Has.Count.EqualTo(1));
    }

    private static PreparedScript Prepare(string sql) => new SqlServerEngine().Prepare("V1__deep.sql", sql);

    private static T OnSmallStack<T>(Func<T> action) => TSqlScriptParser.OnOwnThread(action, 1024 * 1024);
}
