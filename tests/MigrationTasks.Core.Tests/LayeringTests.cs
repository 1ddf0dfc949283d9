using System.Reflection;
using System.Text.RegularExpressions;
using MigrationTasks.Testing;

namespace MigrationTasks.Core.Tests;

/// <summary>
/// Core holds the flow and no engine's facts: what differs by engine comes through <c>IMigrationEngine</c>. Comments
/// may give an engine as an example; code, strings included, may not, or Core grows a hidden mode again.
/// </summary>
public sealed partial class LayeringTests
{
    [Test]
    public void Cores_code_names_no_engine()
    {
        var folder = Path.Combine(RepositoryPaths.Root, "src", "MigrationTasks.Core");
        var found = Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(path => File.ReadLines(path).Select((line, index) => (path, line: CodeOf(line), number: index + 1)))
            .Where(l => EngineWord().IsMatch(l.line))
            .Select(l => $"{Path.GetRelativePath(folder, l.path)}({l.number}): {l.line.Trim()}")
            .ToList();

        Assert.That(found, Is.Empty);
    }

    [Test]
    public void Core_references_no_engine_assembly()
    {
        var references = typeof(MigrationTasks.Engines.IMigrationEngine).Assembly.GetReferencedAssemblies().Select(a => a.Name!);

        Assert.That(references.Where(name => EngineWord().IsMatch(name) || name.StartsWith("MigrationTasks.", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void The_check_finds_an_engine_name_in_code_and_not_in_a_comment()
    {
        Assert.That(EngineWord().IsMatch(CodeOf("""    if (engine == "SqlServer") // SQL Server only""")), Is.True);
        Assert.That(EngineWord().IsMatch(CodeOf("""    var x = 1; // PostgreSQL's public schema""")), Is.False);
        Assert.That(EngineWord().IsMatch(CodeOf("""    /// <summary>SQL Server: a dacpac.</summary>""")), Is.False);
    }

    /// <summary>The line without its comment (a line comment or a doc comment; strings holding "//" are rare enough in Core).</summary>
    private static string CodeOf(string line)
    {
        var comment = line.IndexOf("//", StringComparison.Ordinal);
        return comment < 0 ? line : line[..comment];
    }

    [GeneratedRegex(@"postgres|sql ?server|dacpac|dacfx|npgsql|plpgsql|\bpg_|t-?sql|sqlclient", RegexOptions.IgnoreCase)]
    private static partial Regex EngineWord();
}
