using MigrationTasks.Diagnostics;
using MigrationTasks.Scripts;

namespace MigrationTasks.Core.Tests;

public sealed class DiagnosticTests
{
    [Test]
    public void A_diagnostic_prints_as_an_msbuild_canonical_line() =>
        Assert.That(
            Diagnostic.Error("MIG2004", "it failed", "/p/V1__a.sql", 3, 7).ToString(),
            Is.EqualTo("/p/V1__a.sql(3,7): error MIG2004: it failed"));

    [Test]
    public void A_diagnostic_without_a_file_names_the_tool_and_folds_newlines() =>
        Assert.That(
            Diagnostic.Warning("MIG1002", "no dev database\nsecond line").ToString(),
            Is.EqualTo("migrate: warning MIG1002: no dev database|second line"));

    [Test]
    public void Every_code_is_unique_and_in_the_documented_format()
    {
        var codes = typeof(DiagnosticCodes).GetFields().Select(f => (string)f.GetValue(null)!).ToList();

        Assert.That(codes, Is.Unique);
        Assert.That(codes, Is.All.Matches("^MIG[1-7][0-9]{3}$"));
    }

    [Test]
    public void Text_positions_are_one_based_lines_and_columns()
    {
        var position = new TextPosition("ab\ncd\r\nef");

        Assert.That(position.At(0), Is.EqualTo((1, 1)));
        Assert.That(position.At(4), Is.EqualTo((2, 2)));
        Assert.That(position.At(7), Is.EqualTo((3, 1)));
    }
}
