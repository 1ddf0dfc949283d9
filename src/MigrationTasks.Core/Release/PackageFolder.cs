namespace MigrationTasks.Release;

/// <summary>
/// The package folder: the folder that holds <c>release/</c> and, beside it, the runner (<c>migrate.dll</c> and its
/// dependencies). What lies in it outside <c>release/</c>, and which of those files the .NET host could load when
/// <c>dotnet migrate.dll</c> starts — before any check of the runner's own could run.
/// </summary>
public static class PackageFolder
{
    /// <summary>The runner's apphost, which starts the runner as <c>./migrate</c>.</summary>
    public const string AppHostName = "migrate";

    /// <summary>Where the host looks for platform-specific assemblies and native libraries.</summary>
    private const string RuntimesFolder = "runtimes";

    private static readonly (string Suffix, string What)[] LoadableSuffixes =
    [
        (".dll", "an assembly"),
        (".exe", "an executable"),
        (".so", "a native library"),
        (".dylib", "a native library"),
        (".deps.json", "the host's dependency list"),
        (".runtimeconfig.json", "the host's runtime configuration (startup hooks, probing paths)"),
        (".runtimeconfig.dev.json", "the host's runtime configuration (startup hooks, probing paths)"),
    ];

    /// <summary>A file outside <c>release/</c>, or a symbolic link there (to a file or a folder; never followed).</summary>
    /// <param name="RelativePath">Relative to the package folder, with forward slashes.</param>
    public sealed record Entry(string RelativePath, string FullPath, bool IsLink);

    /// <summary>
    /// Every file of the package folder outside the release folder, hidden ones too, and every symbolic link: a link
    /// to a folder is returned, not entered, since it may point anywhere (or at itself).
    /// </summary>
    /// <param name="releaseFolderName">The name of the release folder inside the package folder, which is skipped.</param>
    public static IEnumerable<Entry> EntriesOutside(string packageDirectory, string releaseFolderName)
    {
        var root = Path.GetFullPath(packageDirectory);
        var everyEntry = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        var folders = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (folders.TryPop(out var folder))
        {
            foreach (var info in folder.EnumerateFileSystemInfos("*", everyEntry).OrderBy(i => i.Name, StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(root, info.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (relative == releaseFolderName)
                {
                    continue;
                }

                if (info.LinkTarget is not null)
                {
                    yield return new Entry(relative, info.FullName, IsLink: true);
                }
                else if (info is DirectoryInfo directory)
                {
                    folders.Push(directory);
                }
                else
                {
                    yield return new Entry(relative, info.FullName, IsLink: false);
                }
            }
        }
    }

    /// <summary>
    /// Null when the .NET host would not load this file (a report, a backup, a README), else what the host would take
    /// it for: any assembly, native library or host configuration file anywhere in the folder, anything under
    /// <c>runtimes/</c>, and the apphost. Names are compared ignoring case, as some file systems do.
    /// </summary>
    public static string? WhatTheHostCouldLoad(string relativePath)
    {
        if (relativePath.Equals(RuntimesFolder, StringComparison.OrdinalIgnoreCase)
            || relativePath.StartsWith(RuntimesFolder + "/", StringComparison.OrdinalIgnoreCase))
        {
            return "a file under runtimes/, where the host looks for platform-specific assemblies and native libraries";
        }

        if (relativePath.Equals(AppHostName, StringComparison.OrdinalIgnoreCase))
        {
            return "the runner's apphost";
        }

        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..];
        if (name.Contains(".so.", StringComparison.OrdinalIgnoreCase))
        {
            return "a native library";
        }

        return LoadableSuffixes
            .Where(s => name.EndsWith(s.Suffix, StringComparison.OrdinalIgnoreCase))
            .Select(s => s.What)
            .FirstOrDefault();
    }

    /// <summary>
    /// Whether the path lies in a folder the runner itself writes when started from the package folder (its default
    /// report and backup folders): that is output of a run, not part of the package.
    /// </summary>
    public static bool IsRunnerOutput(string relativePath)
    {
        var first = relativePath.Split('/')[0];
        return first is ReleaseLayout.DefaultReportFolder or ReleaseLayout.DefaultBackupFolder;
    }
}
