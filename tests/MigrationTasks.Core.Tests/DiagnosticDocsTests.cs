using MigrationTasks.Diagnostics;

namespace MigrationTasks.Core.Tests;

public sealed class DiagnosticDocsTests
{
    [Test]
    public void The_diagnostics_page_lists_every_code_and_no_other()
    {
        var page = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "diagnostics.md"));
        var documented = System.Text.RegularExpressions.Regex.Matches(page, @"^\| (MIG\d{4}) \|", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value);
        var codes = typeof(DiagnosticCodes).GetFields().Select(f => (string)f.GetValue(null)!);

        Assert.That(documented, Is.EquivalentTo(codes));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MigrationTasks.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("MigrationTasks.sln not found");
    }
}
