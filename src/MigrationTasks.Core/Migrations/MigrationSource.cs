using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Migrations;

/// <summary>
/// Loads a project's migrations and prepares every one of them offline (names, versions, statements, transaction
/// mode), reporting all problems of all files together before any database is touched.
/// </summary>
public static class MigrationSource
{
    public static IReadOnlyList<(MigrationFile File, PreparedScript Script)> Prepare(IMigrationEngine engine, IEnumerable<string> paths) =>
        Prepare(engine, MigrationSet.Load(paths));

    /// <summary>The same for files already read: a verified release's bytes, never read from disk again.</summary>
    public static IReadOnlyList<(MigrationFile File, PreparedScript Script)> Prepare(IMigrationEngine engine, IEnumerable<SourceFile> sources) =>
        Prepare(engine, MigrationSet.Load(sources));

    private static IReadOnlyList<(MigrationFile File, PreparedScript Script)> Prepare(IMigrationEngine engine, MigrationSet set)
    {
        var problems = new List<Diagnostic>();
        var prepared = new List<(MigrationFile, PreparedScript)>();
        foreach (var file in set.InApplyOrder.Concat(set.Undo))
        {
            try
            {
                prepared.Add((file, engine.Prepare(file.Path, file.Text)));
            }
            catch (DiagnosticException e)
            {
                problems.AddRange(e.Diagnostics);
            }
        }

        if (problems.Count > 0)
        {
            throw new DiagnosticException(problems);
        }

        return prepared;
    }

    /// <summary>Reads a script's text (a UTF-8 byte order mark dropped) or fails with MIG2006 at the file.</summary>
    public static string ReadText(string path) => SourceFile.Read(path).Text;
}
