using System.Globalization;

namespace MigrationTasks.PostgreSql.Ephemeral;

/// <summary>Finds the server programs (initdb, pg_ctl) of a local PostgreSQL install.</summary>
public static class PostgresBinaries
{
    /// <summary>Names the folder to use when several versions are installed; a folder without them means none.</summary>
    public const string OverrideVariable = "MIGRATIONTASKS_POSTGRES_BIN";

    private const string DebianRoot = "/usr/lib/postgresql";
    private const string SourceBuildBin = "/usr/local/pgsql/bin";

    /// <summary>The folder holding initdb and pg_ctl, or null when PostgreSQL is not installed.</summary>
    public static string? FindBinDirectory()
    {
        if (Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } chosen)
        {
            return HasServerPrograms(chosen) ? chosen : null;
        }

        return FromPath() ?? HighestDebianVersion() ?? (HasServerPrograms(SourceBuildBin) ? SourceBuildBin : null);
    }

    /// <summary>
    /// The folder holding the client programs <paramref name="programs"/> (e.g. pg_dump, pg_restore, psql) together,
    /// so that they are of one version: the override folder when set, else beside the server programs (or where they
    /// link to), else the first folder on the PATH, else the newest /usr/lib/postgresql/&lt;version&gt;/bin; null when
    /// none has them all.
    /// </summary>
    public static string? FindClientDirectory(IReadOnlyList<string> programs)
    {
        bool HasAll(string? directory) => directory is not null && programs.All(p => File.Exists(ProgramPath(directory, p)));

        if (Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } chosen)
        {
            return HasAll(chosen) ? chosen : null;
        }

        // The server programs may be links on the PATH (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb):
        // the folder they link to is the installation, and holds its client programs.
        var server = FindBinDirectory();
        foreach (var candidate in new[] { server, server is null ? null : LinkedDirectory(ProgramPath(server, "initdb")) })
        {
            if (HasAll(candidate))
            {
                return candidate;
            }
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(HasAll);
        if (onPath is not null)
        {
            return onPath;
        }

        var debian = Directory.Exists(DebianRoot)
            ? Directory.GetDirectories(DebianRoot)
                .Select(folder => (Version: ParseVersion(Path.GetFileName(folder)), Bin: Path.Combine(folder, "bin")))
                .Where(install => install.Version is not null && HasAll(install.Bin))
                .OrderByDescending(install => install.Version)
                .Select(install => install.Bin)
                .FirstOrDefault()
            : null;
        return debian ?? (HasAll(SourceBuildBin) ? SourceBuildBin : null);
    }

    private static string? LinkedDirectory(string program) =>
        new FileInfo(program).ResolveLinkTarget(returnFinalTarget: true) is { } target ? Path.GetDirectoryName(target.FullName) : null;

    internal static string ProgramPath(string binDirectory, string name) =>
        Path.Combine(binDirectory, OperatingSystem.IsWindows() ? name + ".exe" : name);

    private static string? FromPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(HasServerPrograms);

    // Debian and Ubuntu install each major version side by side (/usr/lib/postgresql/15/bin) and keep initdb off
    // the PATH; the newest one is the one a user expects.
    private static string? HighestDebianVersion()
    {
        if (!Directory.Exists(DebianRoot))
        {
            return null;
        }

        return Directory.GetDirectories(DebianRoot)
            .Select(folder => (Version: ParseVersion(Path.GetFileName(folder)), Bin: Path.Combine(folder, "bin")))
            .Where(install => install.Version is not null && HasServerPrograms(install.Bin))
            .OrderByDescending(install => install.Version)
            .Select(install => install.Bin)
            .FirstOrDefault();
    }

    // Versions before 10 are named like "9.6", so the folder names are compared as numbers, not as text.
    private static decimal? ParseVersion(string name) =>
        decimal.TryParse(name, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var version) ? version : null;

    private static bool HasServerPrograms(string directory) =>
        File.Exists(ProgramPath(directory, "initdb")) && File.Exists(ProgramPath(directory, "pg_ctl"));
}
