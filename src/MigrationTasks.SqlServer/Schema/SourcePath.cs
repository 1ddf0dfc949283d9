using MigrationTasks.Common;
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

        var actual = CaseInsensitivePath.Find(path);
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
}
