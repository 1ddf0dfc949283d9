using System.Text;
using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.SqlServer.Scripts;

namespace MigrationTasks.SqlServer.Tests.Schema;

public sealed class SqlCmdScriptTests
{
    private static readonly Dictionary<string, string> DatabaseName = new() { ["DatabaseName"] = "ShopDb" };

    private ScratchFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new ScratchFolder();

    [TearDown]
    public void DeleteFolder() => _folder.Dispose();

    [Test]
    public void A_script_without_SQLCMD_syntax_is_kept_byte_for_byte()
    {
        const string text = "PRINT 'a';\r\nGO\r\nPRINT 'b';";
        var script = SqlCmdScript.Expand(_folder.Write("Post.sql", text), DatabaseName);

        Assert.That(script.Diagnostics, Is.Empty);
        Assert.That(script.Text, Is.EqualTo(text));
    }

    [Test]
    public void Setvar_items_and_DatabaseName_are_substituted_in_code_strings_and_brackets_but_not_in_comments()
    {
        var path = _folder.Write("Post.sql", """
            /*
             Example:      :setvar TableName MyTable
                           SELECT * FROM [$(TableName)]
            */
            :setvar Greeting "say ""hi"" now"
            :on error exit
            PRINT '$(Greeting) in $(DatabaseName) for $(environment)'; -- $(NotDefined) in a comment
            SELECT name FROM [$(DatabaseName)].sys.tables;

            """);

        var script = SqlCmdScript.Expand(path, new Dictionary<string, string>(DatabaseName) { ["Environment"] = "test" });

        Assert.That(script.Diagnostics, Is.Empty);
        Assert.That(script.Text, Is.EqualTo("""
            /*
             Example:      :setvar TableName MyTable
                           SELECT * FROM [$(TableName)]
            */
            PRINT 'say "hi" now in ShopDb for test'; -- $(NotDefined) in a comment
            SELECT name FROM [ShopDb].sys.tables;

            """));
    }

    [Test]
    public void An_undefined_variable_is_MIG2020_at_its_file_line_and_column()
    {
        var path = _folder.Write("Post.sql", "PRINT 'one';\nPRINT N'$(Environment)';\n");

        var script = SqlCmdScript.Expand(path, DatabaseName);

        Assert.That(script.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"{path}(2,9): error MIG2020: the SQLCMD variable $(Environment) is not defined; add a SqlCmdVariable item for it (with a DefaultValue) or a ':setvar Environment \"value\"' line before this one.",
        }));
    }

    [Test]
    public void Includes_quoted_backslashed_parent_relative_and_nested_are_inlined_and_every_line_knows_its_file()
    {
        var post = _folder.Write("Scripts/Post Deploy/Script.PostDeployment.sql", "PRINT 'post';\n:r \"..\\Reference Data\\Countries.sql\"\n:r .\\Last.sql\nPRINT 'end';\n");
        var countries = _folder.Write("Scripts/Reference Data/Countries.sql", "PRINT 'countries';\n  :r Nested\\Currencies.sql\n");
        var currencies = _folder.Write("Scripts/Reference Data/Nested/Currencies.sql", "PRINT 'currencies in $(DatabaseName)';");
        var last = _folder.PathOf("Scripts/Post Deploy/Last.sql");
        File.WriteAllText(last, "PRINT 'last';\n", new UTF8Encoding(true)); // a BOM, as Visual Studio writes them

        var script = SqlCmdScript.Expand(post, DatabaseName);

        Assert.That(script.Diagnostics, Is.Empty);
        Assert.That(script.Text, Is.EqualTo("PRINT 'post';\nPRINT 'countries';\nPRINT 'currencies in ShopDb';\nPRINT 'last';\nPRINT 'end';\n"));
        Assert.That(
            Enumerable.Range(1, 5).Select(line => script.ToSource(Diagnostic.Error("X", "m", post, line, 3))).Select(d => (d.File, d.Line, d.Column)),
            Is.EqualTo(new[] { (post, 1, 3), (countries, 1, 3), (currencies, 1, 3), (last, 1, 3), (post, 4, 3) }));
    }

    [Test]
    public void An_include_cycle_is_MIG2022_at_the_include_that_closes_it()
    {
        var a = _folder.Write("A.sql", "PRINT 'a';\n:r B.sql\n");
        var b = _folder.Write("B.sql", "PRINT 'b';\n\n:r \"A.sql\"\n");

        var script = SqlCmdScript.Expand(a, DatabaseName);

        Assert.That(script.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"{b}(3,1): error MIG2022: :r includes 'A.sql', which is already being included: A.sql -> B.sql -> A.sql. Remove this include.",
        }));
    }

    [Test]
    public void A_missing_include_is_MIG2021_and_an_unsupported_command_MIG2023()
    {
        var path = _folder.Write("Post.sql", ":connect otherserver\n  :r .\\Missing.sql\n:setvar\n");

        var script = SqlCmdScript.Expand(path, DatabaseName);

        Assert.That(script.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"{path}(1,1): error MIG2023: the SQLCMD command ':connect otherserver' is not supported in a deployment script (only :setvar, :r and :on error are); remove it.",
            $"{path}(2,3): error MIG2021: :r includes '.\\Missing.sql', but '{_folder.PathOf("Missing.sql")}' does not exist (a relative path is relative to the including file).",
            $"{path}(3,1): error MIG2023: the SQLCMD command ':setvar' is malformed; write ':setvar name \"value\"', ':r path' or ':on error exit'.",
        }));
    }

    [Test]
    public void An_include_whose_case_differs_from_the_file_is_found_with_MIG2024_naming_both()
    {
        var path = _folder.Write("Post.sql", ":r .\\scripts\\seed.SQL\n");
        var seed = _folder.Write("Scripts/Seed.sql", "PRINT 'seed';\n");

        var script = SqlCmdScript.Expand(path, DatabaseName);

        Assert.That(script.Text, Is.EqualTo("PRINT 'seed';\n"));
        Assert.That(script.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            $"{path}(1): warning MIG2024: '{_folder.PathOf("scripts/seed.SQL")}' does not exist, but '{seed}' does, which differs only in case: using it. " +
            "Change the :r include to the file's exact name, because file names are case-sensitive on Linux.",
        }));
    }

    [Test]
    public void A_syntax_error_after_a_substituted_value_is_reported_at_the_column_as_written()
    {
        var path = _folder.Write("Post.sql", ":setvar Greeting \"a much longer value\"\nSELECT '$(Greeting)',, 1;\n");

        var script = SqlCmdScript.Expand(path, DatabaseName);
        var errors = TSqlScriptParser.Parse(SqlServerPlatform.Default, path, script.Text).Errors.Select(script.ToSource);

        Assert.That(errors.Select(e => (e.File, e.Line, e.Column)), Is.EqualTo(new[] { (path, 2, 22) }));
    }
}
