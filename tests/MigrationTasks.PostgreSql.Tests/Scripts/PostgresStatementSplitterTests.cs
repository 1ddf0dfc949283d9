using MigrationTasks.PostgreSql.Scripts;
using MigrationTasks.Scripts;

namespace MigrationTasks.PostgreSql.Tests.Scripts;

public sealed class PostgresStatementSplitterTests
{
    [Test]
    public void Semicolons_end_statements_and_the_last_statement_needs_none()
    {
        Assert.That(Texts("SELECT 1; SELECT 2"), Is.EqualTo(new[] { "SELECT 1", "SELECT 2" }));
    }

    [Test]
    public void Semicolons_inside_dollar_quotes_do_not_split()
    {
        const string sql = """
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; SELECT 2; $$;
            SELECT 3;
            """;

        Assert.That(Texts(sql), Is.EqualTo(new[]
        {
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; SELECT 2; $$",
            "SELECT 3",
        }));
    }

    [Test]
    public void Semicolons_inside_tagged_dollar_quotes_with_other_tags_nested_do_not_split()
    {
        const string sql = """
            DO $outer$
            BEGIN
              EXECUTE $inner$ SELECT ';' $inner$;
              EXECUTE $$ SELECT 1; $$;
            END
            $outer$;
            SELECT 2;
            """;

        Assert.That(Texts(sql), Has.Length.EqualTo(2));
        Assert.That(Texts(sql)[1], Is.EqualTo("SELECT 2"));
    }

    [Test]
    public void A_dollar_quote_ends_only_at_its_own_tag_with_the_same_case()
    {
        const string sql = "SELECT $a$ $b$; $A$; $ab$ $a$; SELECT 2;";

        Assert.That(Texts(sql), Is.EqualTo(new[] { "SELECT $a$ $b$; $A$; $ab$ $a$", "SELECT 2" }));
    }

    [Test]
    public void A_dollar_quoted_body_may_hold_quotes_and_comment_starts()
    {
        const string sql = "SELECT $$ it's /* not -- a comment \" $$; SELECT 2;";

        Assert.That(Texts(sql), Is.EqualTo(new[] { "SELECT $$ it's /* not -- a comment \" $$", "SELECT 2" }));
    }

    [Test]
    public void Positional_parameters_are_not_dollar_quotes()
    {
        Assert.That(
            Texts("PREPARE p(int) AS SELECT $1; EXECUTE p(1);"),
            Is.EqualTo(new[] { "PREPARE p(int) AS SELECT $1", "EXECUTE p(1)" }));
    }

    [Test]
    public void A_dollar_after_an_identifier_character_is_part_of_the_identifier()
    {
        Assert.That(
            Texts("SELECT a$b, x$$ FROM t; SELECT 2;"),
            Is.EqualTo(new[] { "SELECT a$b, x$$ FROM t", "SELECT 2" }));
    }

    [Test]
    public void A_dollar_without_a_closing_dollar_after_its_tag_is_not_a_quote()
    {
        Assert.That(Texts("SELECT $a; SELECT 2;"), Is.EqualTo(new[] { "SELECT $a", "SELECT 2" }));
    }

    [Test]
    public void Nested_block_comments_with_semicolons_are_one_comment()
    {
        const string sql = "/* outer /* inner; */ still outer; */ SELECT 1; SELECT /* a; /* b; */ c; */ 2;";

        Assert.That(Texts(sql), Is.EqualTo(new[] { "SELECT 1", "SELECT /* a; /* b; */ c; */ 2" }));
    }

    [Test]
    public void Line_comments_hide_semicolons_up_to_the_line_end()
    {
        Assert.That(
            Texts("SELECT 1 -- not here;\n, 2;\nSELECT 3;"),
            Is.EqualTo(new[] { "SELECT 1 -- not here;\n, 2", "SELECT 3" }));
    }

    [Test]
    public void Escape_strings_take_a_backslash_escaped_quote_and_an_escaped_backslash()
    {
        Assert.That(
            Texts(@"SELECT E'\''; SELECT e'\\'; SELECT E'it''s; \; done';"),
            Is.EqualTo(new[] { @"SELECT E'\''", @"SELECT e'\\'", @"SELECT E'it''s; \; done'" }));
    }

    [Test]
    public void Standard_strings_end_at_a_quote_after_a_backslash()
    {
        Assert.That(Texts(@"SELECT 'C:\'; SELECT 2;"), Is.EqualTo(new[] { @"SELECT 'C:\'", "SELECT 2" }));
    }

    [Test]
    public void Standard_strings_take_doubled_quotes()
    {
        Assert.That(Texts("SELECT 'it''s; fine'; SELECT 2;"), Is.EqualTo(new[] { "SELECT 'it''s; fine'", "SELECT 2" }));
    }

    [Test]
    public void A_word_ending_in_e_before_a_quote_does_not_start_an_escape_string()
    {
        Assert.That(Texts(@"SELECT value'\'; SELECT 2;"), Is.EqualTo(new[] { @"SELECT value'\'", "SELECT 2" }));
    }

    [Test]
    public void Letters_right_after_a_number_do_not_start_an_escape_string()
    {
        Assert.That(Texts(@"SELECT 1e'\'; SELECT 2;"), Is.EqualTo(new[] { @"SELECT 1e'\'", "SELECT 2" }));
    }

    [Test]
    public void Unicode_bit_hex_and_national_strings_hide_semicolons()
    {
        const string sql = @"SELECT U&'d\0061t;a', B'1;0', X'1F;', N'x;y'; SELECT 2;";

        Assert.That(Texts(sql), Is.EqualTo(new[] { @"SELECT U&'d\0061t;a', B'1;0', X'1F;', N'x;y'", "SELECT 2" }));
    }

    [Test]
    public void Quoted_identifiers_may_hold_semicolons_and_doubled_quotes()
    {
        const string sql = "CREATE TABLE \"a;\"\"b\" (x int); SELECT U&\"c;d\"; SELECT 3;";

        Assert.That(
            Texts(sql),
            Is.EqualTo(new[] { "CREATE TABLE \"a;\"\"b\" (x int)", "SELECT U&\"c;d\"", "SELECT 3" }));
    }

    [Test]
    public void Semicolons_inside_parentheses_do_not_split()
    {
        const string sql = """
            CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));
            SELECT 1;
            """;

        Assert.That(Texts(sql), Is.EqualTo(new[]
        {
            "CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))",
            "SELECT 1",
        }));
    }

    [Test]
    public void Empty_statements_give_nothing()
    {
        Assert.That(Texts(";; SELECT 1;;  ;\n;"), Is.EqualTo(new[] { "SELECT 1" }));
    }

    [TestCase("")]
    [TestCase(" \r\n\t ")]
    [TestCase("-- just a note\n/* and; a block */\n")]
    [TestCase("/* a */ ; -- b\n ;")]
    public void A_script_of_whitespace_and_comments_gives_no_statements(string sql)
    {
        Assert.That(PostgresStatementSplitter.Split(sql), Is.Empty);
    }

    [Test]
    public void A_comment_after_the_last_semicolon_is_not_a_statement()
    {
        Assert.That(Texts("SELECT 1; -- the end\n/* really */\n"), Is.EqualTo(new[] { "SELECT 1" }));
    }

    [Test]
    public void Leading_comments_are_left_out_and_later_comments_are_kept()
    {
        const string sql = "-- header\n/* block */ SELECT 1 /* one */ -- trailing\n;";

        Assert.That(Texts(sql), Is.EqualTo(new[] { "SELECT 1 /* one */ -- trailing" }));
    }

    [Test]
    public void Trailing_whitespace_before_the_semicolon_is_trimmed()
    {
        Assert.That(Texts("SELECT 1 \r\n\t ;"), Is.EqualTo(new[] { "SELECT 1" }));
    }

    [Test]
    public void A_begin_atomic_body_with_several_statements_and_a_case_stays_one_statement()
    {
        const string sql = """
            CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql
            BEGIN ATOMIC
              SELECT 1;
              SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END;
              SELECT 3;
            END;
            SELECT 4;
            """;

        var texts = Texts(sql);

        Assert.That(texts, Has.Length.EqualTo(2));
        Assert.That(texts[0], Does.StartWith("CREATE FUNCTION").And.EndWith("SELECT 3;\nEND"));
        Assert.That(texts[1], Is.EqualTo("SELECT 4"));
    }

    [Test]
    public void A_create_or_replace_procedure_with_begin_atomic_stays_one_statement_in_any_case()
    {
        const string sql = "create or replace procedure p() begin atomic insert into t values (1); delete from u; end; call p();";

        Assert.That(Texts(sql), Is.EqualTo(new[]
        {
            "create or replace procedure p() begin atomic insert into t values (1); delete from u; end",
            "call p()",
        }));
    }

    [Test]
    public void A_case_outside_a_function_body_does_not_hold_the_statement_open()
    {
        const string sql = "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql RETURN CASE WHEN x > 0 THEN 1 END; SELECT 2;";

        Assert.That(Texts(sql), Has.Length.EqualTo(2));
    }

    [Test]
    public void Begin_and_end_inside_a_dollar_quoted_function_body_do_not_matter()
    {
        const string sql = "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; END $$; SELECT 2;";

        Assert.That(Texts(sql), Has.Length.EqualTo(2));
    }

    [Test]
    public void Do_blocks_split_like_any_other_statement()
    {
        const string sql = "DO $$ BEGIN RAISE NOTICE 'a;'; END $$; DO LANGUAGE plpgsql $body$ BEGIN NULL; END $body$; SELECT 1;";

        Assert.That(Texts(sql), Is.EqualTo(new[]
        {
            "DO $$ BEGIN RAISE NOTICE 'a;'; END $$",
            "DO LANGUAGE plpgsql $body$ BEGIN NULL; END $body$",
            "SELECT 1",
        }));
    }

    [Test]
    public void A_transaction_written_in_the_script_splits_into_its_statements()
    {
        Assert.That(
            Texts("BEGIN;\nUPDATE t SET x = 1;\nCOMMIT;"),
            Is.EqualTo(new[] { "BEGIN", "UPDATE t SET x = 1", "COMMIT" }));
    }

    [Test]
    public void Positions_are_those_of_the_first_character_of_the_statement()
    {
        var statements = PostgresStatementSplitter.Split("SELECT 1;\n  SELECT 2;");

        Assert.That(statements, Is.EqualTo(new[]
        {
            new ScriptStatement("SELECT 1", 0, 1, 1),
            new ScriptStatement("SELECT 2", 12, 2, 3),
        }));
    }

    [Test]
    public void Positions_count_the_lines_of_a_leading_multi_line_comment()
    {
        var statement = PostgresStatementSplitter.Split("/* one\ntwo\n */  SELECT 1;").Single();

        Assert.That(statement, Is.EqualTo(new ScriptStatement("SELECT 1", 16, 3, 6)));
    }

    [Test]
    public void Positions_with_crlf_line_ends_count_columns_from_after_the_line_feed()
    {
        var statements = PostgresStatementSplitter.Split("SELECT 1;\r\n\r\n   SELECT\r\n 2;\r\n");

        Assert.That(statements[1], Is.EqualTo(new ScriptStatement("SELECT\r\n 2", 16, 3, 4)));
    }

    [Test]
    public void Each_text_is_exactly_the_part_of_the_script_at_its_offset()
    {
        const string sql =
            "-- x\r\n/* y */ SELECT 'a;b' ; \n\tCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql\n-- done";

        var statements = PostgresStatementSplitter.Split(sql);

        Assert.That(statements, Has.Count.EqualTo(2));
        Assert.That(
            statements.Select(s => sql.Substring(s.Offset, s.Text.Length)),
            Is.EqualTo(statements.Select(s => s.Text)));
        Assert.That(statements[1].Text, Does.EndWith("LANGUAGE sql\n-- done"));
    }

    [TestCase("SELECT 1;\nSELECT 'abc;", "unterminated quoted string that starts here", 2, 8)]
    [TestCase("SELECT E'\\';", "unterminated quoted string that starts here", 1, 8)]
    [TestCase("SELECT \"abc", "unterminated quoted identifier that starts here", 1, 8)]
    [TestCase(
        "SELECT 1;\n  CREATE FUNCTION f() AS $fn$ SELECT 1; $fn; $$",
        "unterminated dollar-quoted string $fn$ that starts here",
        2,
        26)]
    [TestCase("SELECT 1; /* a /* b */ c", "unterminated /* comment that starts here", 1, 11)]
    public void An_unterminated_construct_is_reported_where_it_starts(string sql, string message, int line, int column)
    {
        var error = Assert.Throws<ScriptSyntaxException>(() => PostgresStatementSplitter.Split(sql))!;

        Assert.That((error.Message, error.Line, error.Column), Is.EqualTo((message, line, column)));
    }

    [TestCase("SELECT 1;\n\\i other.sql\nSELECT 2;", "\\i", 2, 1)]
    [TestCase("  \\set x 1\nSELECT :x;", "\\set", 1, 3)]
    [TestCase("SELECT 1\n\\gexec", "\\gexec", 2, 1)]
    [TestCase("SELECT 1 \\; SELECT 2;", "\\;", 1, 10)]
    public void Psql_meta_commands_are_rejected_where_they_are(string sql, string command, int line, int column)
    {
        var error = Assert.Throws<ScriptSyntaxException>(() => PostgresStatementSplitter.Split(sql))!;

        Assert.That(error.Message, Does.StartWith($"psql meta-command {command} is not supported in a migration: "));
        Assert.That((error.Line, error.Column), Is.EqualTo((line, column)));
    }

    [Test]
    public void Backslashes_inside_strings_and_comments_are_not_meta_commands()
    {
        const string sql = "-- run with \\i\n/* \\set */ SELECT '\\i', $$\n\\connect$$;";

        Assert.That(Texts(sql), Is.EqualTo(new[] { "SELECT '\\i', $$\n\\connect$$" }));
    }

    private static string[] Texts(string sql) => PostgresStatementSplitter.Split(sql).Select(s => s.Text).ToArray();
}
