using MigrationTasks.Common;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Migrations;

/// <summary>
/// All migration files of a project, loaded and checked together so that every naming problem is reported at once:
/// versioned ones in version order, repeatable ones by description (Flyway's order), undo ones by version.
/// </summary>
public sealed class MigrationSet
{
    private MigrationSet(IReadOnlyList<MigrationFile> versioned, IReadOnlyList<MigrationFile> repeatable, IReadOnlyList<MigrationFile> undo)
    {
        Versioned = versioned;
        Repeatable = repeatable;
        Undo = undo;
    }

    public IReadOnlyList<MigrationFile> Versioned { get; }

    public IReadOnlyList<MigrationFile> Repeatable { get; }

    public IReadOnlyList<MigrationFile> Undo { get; }

    /// <summary>Versioned then repeatable: the order in which a fresh database receives them.</summary>
    public IEnumerable<MigrationFile> InApplyOrder => Versioned.Concat(Repeatable);

    public static MigrationSet Load(IEnumerable<string> paths) =>
        Load(paths.Distinct(StringComparer.Ordinal).Select(path => new Lazy<SourceFile>(() => SourceFile.Read(path))));

    /// <summary>The set of files already read (a verified release's bytes).</summary>
    public static MigrationSet Load(IEnumerable<SourceFile> sources) =>
        Load(sources.DistinctBy(s => s.Path, StringComparer.Ordinal).Select(s => new Lazy<SourceFile>(s)));

    private static MigrationSet Load(IEnumerable<Lazy<SourceFile>> sources)
    {
        var problems = new List<Diagnostic>();
        var files = new List<MigrationFile>();
        foreach (var source in sources)
        {
            try
            {
                files.Add(MigrationFile.From(source.Value));
            }
            catch (DiagnosticException e)
            {
                problems.AddRange(e.Diagnostics);
            }
        }

        problems.AddRange(Duplicates(files.Where(f => f.Kind == MigrationKind.Versioned), "version"));
        problems.AddRange(Duplicates(files.Where(f => f.Kind == MigrationKind.Undo), "undo version"));
        problems.AddRange(files.Where(f => f.Kind == MigrationKind.Repeatable)
            .GroupBy(f => f.ScriptName, StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .Select(g => Diagnostic.Error(
                DiagnosticCodes.DuplicateVersion,
                $"repeatable migration '{g.Key}' exists more than once: {string.Join(", ", g.Select(f => f.Path))}. Keep one.",
                g.Last().Path)));
        if (problems.Exists(p => p.IsError))
        {
            throw new DiagnosticException(problems);
        }

        return new MigrationSet(
            [.. files.Where(f => f.Kind == MigrationKind.Versioned).OrderBy(f => f.Version)],
            [.. files.Where(f => f.Kind == MigrationKind.Repeatable).OrderBy(f => f.Description, StringComparer.Ordinal)],
            [.. files.Where(f => f.Kind == MigrationKind.Undo).OrderBy(f => f.Version)]);
    }

    private static IEnumerable<Diagnostic> Duplicates(IEnumerable<MigrationFile> files, string what) =>
        files.GroupBy(f => f.Version!)
            .Where(g => g.Count() > 1)
            .Select(g =>
            {
                var ordered = g.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
                return Diagnostic.Error(
                    DiagnosticCodes.DuplicateVersion,
                    $"{what} {g.Key.Canonical} is used by more than one file: {string.Join(" and ", ordered.Select(f => f.Path))}. " +
                    "Give each migration its own version.",
                    ordered[^1].Path);
            });
}
