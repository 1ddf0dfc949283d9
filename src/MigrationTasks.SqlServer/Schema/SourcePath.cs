using MigrationTasks.Diagnostics;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>
/// Finds the file an SSDT project means. SSDT projects come from Windows, where <c>dbo\Tables\customer.sql</c> opens
/// <c>Customer.sql</c>; on Linux that name does not exist. A path that is missing as written is looked up folder by
/// folder ignoring case; when exactly one file matches, it is used and MIG2024 names both spellings.
/// </summary>
internal static class SourcePath
{
    /// <summary>
    /// The path of the file on disk: <paramref name="path"/> itself when it exists or nothing else matches (the reader
    /// then reports it missing), or the one file whose name differs only in case, with a warning in <paramref name="found"/>.
    /// </summary>
    public static string Resolve(string path, List<Diagnostic> found, string? referencedFrom = null, int line = 0)
    {
        path = Path.GetFullPath(Normalize(path));
        if (File.Exists(path))
        {
            return path;
        }

        var actual = FindIgnoringCase(path);
        if (actual is null)
        {
            return path;
        }

        found.Add(Diagnostic.Warning(
            DiagnosticCodes.PathCaseMismatch,
            $"'{path}' does not exist, but '{actual}' does, which differs only in case: using it. Change the " +
            $"{(referencedFrom is null ? "item" : ":r include")} to the file's exact name, because file names are case-sensitive on Linux.",
            referencedFrom ?? actual,
            line));
        return actual;
    }

    /// <summary>A path written on Windows (<c>..\Scripts\Seed.sql</c>) in this platform's separators.</summary>
    public static string Normalize(string path) =>
        Path.DirectorySeparatorChar == '/' ? path.Replace('\\', '/') : path;

    private static string? FindIgnoringCase(string path)
    {
        var root = Path.GetPathRoot(path)!;
        var current = root;
        foreach (var segment in path[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var exact = Path.Combine(current, segment);
            if (Directory.Exists(exact) || File.Exists(exact))
            {
                current = exact;
                continue;
            }

            if (!Directory.Exists(current))
            {
                return null;
            }

            var matches = Directory.EnumerateFileSystemEntries(current)
                .Where(e => string.Equals(Path.GetFileName(e), segment, StringComparison.OrdinalIgnoreCase))
                .Take(2)
                .ToList();
            if (matches.Count != 1)
            {
                return null;
            }

            current = matches[0];
        }

        return File.Exists(current) ? current : null;
    }
}
