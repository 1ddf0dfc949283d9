using MigrationTasks.Testing;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Core.Tests;

public sealed class DiagnosticDocsTests
{
    [Test]
    public void The_diagnostics_page_lists_every_code_and_no_other()
    {
        var page = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "diagnostics.md"));
        var documented = System.Text.RegularExpressions.Regex.Matches(page, @"^\| (MIG\d{4}) \|", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value);
        var codes = typeof(DiagnosticCodes).GetFields().Select(f => (string)f.GetValue(null)!);

        Assert.That(documented, Is.EquivalentTo(codes));
    }

    [Test]
    public void Every_code_is_given_to_one_situation_only()
    {
        var twice = typeof(DiagnosticCodes).GetFields()
            .GroupBy(f => (string)f.GetValue(null)!)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(f => f.Name))}");

        Assert.That(twice, Is.Empty);
    }
}
