using MigrationTasks.Diagnostics;
using MigrationTasks.Migrations;

namespace MigrationTasks.Core.Tests;

public sealed class MigrationSetTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("migrationtasks-set-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void Files_are_ordered_by_version_then_repeatables_by_description()
    {
        var set = MigrationSet.Load(Write("V1_10__c.sql", "V2__d.sql", "V1_9__b.sql", "R__z_view.sql", "R__a_view.sql", "V1__a.sql", "U1__undo_a.sql"));

        Assert.That(set.InApplyOrder.Select(f => f.ScriptName), Is.EqualTo(new[]
        {
            "V1__a.sql", "V1_9__b.sql", "V1_10__c.sql", "V2__d.sql", "R__a_view.sql", "R__z_view.sql",
        }));
        Assert.That(set.Undo.Single().Version!.Canonical, Is.EqualTo("1"));
        Assert.That(set.Versioned[0].Description, Is.EqualTo("a"));
    }

    [Test]
    public void Flyway_style_names_are_understood()
    {
        var set = MigrationSet.Load(Write("V20201207_10523__add_orders_table.sql", "V17.1__fix_index.sql"));

        Assert.That(set.Versioned.Select(f => $"{f.Version!.Canonical} {f.Description}"), Is.EqualTo(new[]
        {
            "17.1 fix index", "20201207.10523 add orders table",
        }));
    }

    [Test]
    public void Every_malformed_name_is_reported_at_its_file()
    {
        var paths = Write("V1__ok.sql", "v2__lowercase.sql", "V3_missing_separator.sql", "V4__.sql", "create_table.sql");

        var problems = Assert.Throws<DiagnosticException>(() => MigrationSet.Load(paths))!.Diagnostics;

        Assert.That(problems.Select(p => (p.Code, Path.GetFileName(p.File))), Is.EquivalentTo(new[]
        {
            (DiagnosticCodes.MalformedMigrationName, "v2__lowercase.sql"),
            (DiagnosticCodes.MalformedMigrationName, "V3_missing_separator.sql"),
            (DiagnosticCodes.MalformedMigrationName, "V4__.sql"),
            (DiagnosticCodes.MalformedMigrationName, "create_table.sql"),
        }));
    }

    [Test]
    public void A_duplicate_version_names_both_files()
    {
        var paths = Write("V1_1__first.sql", "V1.1__second.sql");

        var problem = Assert.Throws<DiagnosticException>(() => MigrationSet.Load(paths))!.Diagnostics.Single();

        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.DuplicateVersion));
        Assert.That(problem.Message, Does.Contain(paths[0]).And.Contain(paths[1]));
    }

    [Test]
    public void The_checksum_covers_the_exact_bytes_and_the_text_drops_a_byte_order_mark()
    {
        var path = Path.Combine(_folder, "V1__bom.sql");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, (byte)'S', (byte)'E', (byte)'L']);

        var file = MigrationFile.Load(path);

        Assert.That(file.Text, Is.EqualTo("SEL"));
        Assert.That(file.Checksum, Is.EqualTo(Common.Sha256.Hex(File.ReadAllBytes(path))));
    }

    private string[] Write(params string[] names) =>
        [.. names.Select(name =>
        {
            var path = Path.Combine(_folder, name);
            File.WriteAllText(path, $"-- {name}\nSELECT 1;");
            return path;
        })];
}
