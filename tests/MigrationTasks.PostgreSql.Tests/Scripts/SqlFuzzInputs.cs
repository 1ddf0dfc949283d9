using MigrationTasks.Testing;

namespace MigrationTasks.PostgreSql.Tests.Scripts;

/// <summary>Random PostgreSQL scripts that stress the lexer: every construct it tracks, opened and left open.</summary>
internal static class SqlFuzzInputs
{
    private static readonly string[] Fragments =
    [
        // Strings and quoted names, closed, doubled, escaped and left open.
        "'", "''", "'abc'", "'it''s'", "'a;b'", "E'", "E'\\'", "E'\\\\'", "e'a\\'b;'", "E'\\\\\\''", "E'\\", "B'01'", "X'ff'",
        "b'", "N'x'", "U&'d\\0061t'", "U&\"x\"", "u&'", "\"", "\"\"", "\"id\"\"x\"", "\"BEGIN\"", "\"a;b\"",
        // Dollar quotes with and without tags, and the things that only look like them.
        "$$", "$$;$$", "$tag$", "$tag$ ; $tag$", "$a$", "$a$ $$ $a$", "$_$", "$0$", "$1", "$12abc", "a$b", "x$$", "$", "$t", "$é$",
        // Comments: nested, lone ends, line comments with every line end.
        "/*", "*/", "/* a /* nested */ b */", "/**/", "/*/", "--", "-- comment\n", "--;\r", "-- migrationtasks: no-transaction\n",
        // Statement structure the splitter follows.
        ";", ";;", "(", ")", "((", "))", ",", ".", "::", "=", "-", "/", "*",
        "BEGIN", "BEGIN ATOMIC", "begin atomic", "END", "CASE", "WHEN", "THEN", "ELSE", "end case", "END IF",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql ", "CREATE OR REPLACE PROCEDURE p() ", "create or replace function",
        "CREATE", "OR", "REPLACE", "FUNCTION", "PROCEDURE", "SELECT 1", "DO ", "DO $$ BEGIN NULL; END $$",
        "COMMIT", "START TRANSACTION", "ROLLBACK", "ROLLBACK TO", "AND CHAIN", "PREPARE TRANSACTION 'x'", "COMMIT PREPARED",
        "VACUUM", "CREATE INDEX CONCURRENTLY i ON t (a)", "REINDEX (CONCURRENTLY) TABLE t", "CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p WITH (create_slot = ",
        "ALTER TABLE t DETACH PARTITION p CONCURRENTLY", "DISCARD ALL", "CLUSTER",
        // psql meta-commands.
        "\\", "\\i file.sql", "\\set x 1", "\\\\", "\\!", ":'var'", ":var",
        // Numbers the lexer reads specially.
        "1e", "1e'x'", "0x1F", "1..2", "1.5", "123abc", ".5",
        // Whitespace, control characters and Unicode.
        " ", "\n", "\r", "\r\n", "\t", "\f", "\v", "\0", "\u0001", "\u001b", "\u007f", "\u0085", "\u00a0", "\u2028", "\ufeff",
        "é", "ß", "日本", "😀", "\ud800", "\udc00", "İ", "ﬀ",
    ];

    /// <summary>PostgreSQL's pieces, and the characters psql's lexer decides on.</summary>
    public static readonly TextFuzz.Alphabet Alphabet = new(Fragments, "'\"$;()/*-\\\n\r\t EeBbXxNnUu&_0123456789:.,");

    /// <summary>Every migration of the Flyway history test and of the PgShop sample.</summary>
    public static IReadOnlyList<(string Name, string Text)> RealMigrations() =>
    [
        .. new[]
            {
                Path.Combine(RepositoryPaths.Root, "tests", "MigrationTasks.EndToEnd.Tests", "FlywayHistory", "db", "migration"),
                Path.Combine(RepositoryPaths.SampleProject("PgShop"), "Migrations"),
            }
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.sql"))
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetFileName(path), File.ReadAllText(path))),
    ];
}
