using System.ComponentModel;
using System.Diagnostics;

namespace MigrationTasks.Release;

/// <summary>
/// The git commit a project is at, for the manifest's <c>sourceRevision</c>. Read from <c>.git</c> directly (HEAD,
/// loose refs, packed-refs; linked worktrees too), so no git program is needed; only a repository this cannot read
/// (e.g. the reftable format) asks <c>git rev-parse HEAD</c>. Outside git, or when both fail, it is null.
/// </summary>
public static class SourceRevision
{
    public static string? Find(string directory)
    {
        var (gitDirectory, commonDirectory) = FindGitDirectory(directory);
        if (gitDirectory is null)
        {
            return null;
        }

        try
        {
            return ReadHead(gitDirectory, commonDirectory!) ?? RunGit(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return RunGit(directory);
        }
    }

    private static (string? GitDirectory, string? CommonDirectory) FindGitDirectory(string directory)
    {
        for (var current = new DirectoryInfo(Path.GetFullPath(directory)); current is not null; current = current.Parent)
        {
            var dotGit = Path.Combine(current.FullName, ".git");
            if (Directory.Exists(dotGit))
            {
                return (dotGit, dotGit);
            }

            if (File.Exists(dotGit))
            {
                // A linked worktree or submodule: ".git" is a file "gitdir: <path>"; a worktree's refs live in the
                // main repository's folder, named by its "commondir" file.
                var line = File.ReadAllText(dotGit).Trim();
                if (!line.StartsWith("gitdir:", StringComparison.Ordinal))
                {
                    return (null, null);
                }

                var gitDirectory = Path.GetFullPath(Path.Combine(current.FullName, line["gitdir:".Length..].Trim()));
                var commonFile = Path.Combine(gitDirectory, "commondir");
                var common = File.Exists(commonFile)
                    ? Path.GetFullPath(Path.Combine(gitDirectory, File.ReadAllText(commonFile).Trim()))
                    : gitDirectory;
                return (gitDirectory, common);
            }
        }

        return (null, null);
    }

    private static string? ReadHead(string gitDirectory, string commonDirectory)
    {
        var head = File.ReadAllText(Path.Combine(gitDirectory, "HEAD")).Trim();
        if (!head.StartsWith("ref:", StringComparison.Ordinal))
        {
            return IsObjectId(head) ? head.ToLowerInvariant() : null;
        }

        var reference = head["ref:".Length..].Trim();
        foreach (var folder in new[] { gitDirectory, commonDirectory })
        {
            var loose = Path.Combine(folder, reference.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(loose))
            {
                var id = File.ReadAllText(loose).Trim();
                return IsObjectId(id) ? id.ToLowerInvariant() : null;
            }
        }

        var packed = Path.Combine(commonDirectory, "packed-refs");
        if (!File.Exists(packed))
        {
            return null;
        }

        return File.ReadLines(packed)
            .Select(l => l.Split(' ', 2))
            .Where(parts => parts.Length == 2 && parts[1].Trim() == reference && IsObjectId(parts[0]))
            .Select(parts => parts[0].ToLowerInvariant())
            .FirstOrDefault();
    }

    private static string? RunGit(string directory)
    {
        var info = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("rev-parse");
        info.ArgumentList.Add("HEAD");
        try
        {
            using var process = Process.Start(info);
            if (process is null)
            {
                return null;
            }

            var errors = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd().Trim();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            errors.Wait();
            return process.ExitCode == 0 && IsObjectId(output) ? output.ToLowerInvariant() : null;
        }
        catch (Win32Exception)
        {
            // No git program: the revision is simply unknown.
            return null;
        }
    }

    // SHA-1 (40) or SHA-256 (64) repositories.
    private static bool IsObjectId(string text) => text.Length is 40 or 64 && text.All(char.IsAsciiHexDigit);
}
