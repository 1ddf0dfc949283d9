using MigrationTasks.Diagnostics;

namespace MigrationTasks.Release;

/// <summary>
/// The part of the <c>package</c> step outside <c>release/</c>: copies the runner (the folder of the CLI that runs the
/// step) into the package folder, then hashes every file there outside <c>release/</c> for the manifest's
/// <see cref="ReleaseManifest.PackageFiles"/>. It runs after <c>release/</c> is written and before the manifest is
/// signed, so that the signature covers every file the .NET host loads when <c>dotnet migrate.dll</c> starts.
/// </summary>
public sealed class PackageFolderWriter(Reporter reporter)
{
    /// <param name="runnerDirectory">The CLI's own folder (the runner to copy), or null to copy none.</param>
    /// <param name="packageDirectory">The publish folder, which holds <c>release/</c>.</param>
    public IReadOnlyList<PackageFile> Write(string? runnerDirectory, string packageDirectory)
    {
        var copied = runnerDirectory is null ? 0 : CopyRunner(runnerDirectory, packageDirectory);
        var files = List(packageDirectory);
        reporter.Info(runnerDirectory is null
            ? $"No runner copied; {files.Count} file(s) beside {ReleaseLayout.FolderName}/ listed in {ReleaseLayout.ManifestName}."
            : $"Runner: {copied} file(s) of {runnerDirectory} copied beside {ReleaseLayout.FolderName}/; {files.Count} file(s) beside " +
              $"{ReleaseLayout.FolderName}/ (the runner and the rest of the publish folder) listed in {ReleaseLayout.ManifestName}.");
        return files;
    }

    /// <summary>Copies the runner's files, overwriting the previous publish's; returns how many.</summary>
    private static int CopyRunner(string runnerDirectory, string packageDirectory)
    {
        var source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(runnerDirectory));
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(packageDirectory));
        if (source == target)
        {
            // The package step ran from a runner already in the package folder: its files are in place.
            return 0;
        }

        var everyFile = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        var files = Directory.EnumerateFiles(source, "*", everyFile)
            .Select(path => (Path: path, Relative: Path.GetRelativePath(source, path).Replace(Path.DirectorySeparatorChar, '/')))
            // Symbols are not needed to run, and the .nupkg's runner has none: a dev build's runner is packaged the same.
            // A CLI folder that is itself a package folder brings neither its release/ nor the output of its runs,
            // and a publish folder inside the CLI's folder is not copied into itself.
            .Where(f => !f.Relative.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase)
                        && f.Relative.Split('/')[0] != ReleaseLayout.FolderName
                        && !PackageFolder.IsRunnerOutput(f.Relative)
                        && !f.Path.StartsWith(target + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToList();
        foreach (var (path, relative) in files)
        {
            var copy = Path.Combine(target, relative.Replace('/', Path.DirectorySeparatorChar));
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(path, copy, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DiagnosticException(Diagnostic.Error(
                    DiagnosticCodes.UnreadableFile, $"cannot copy the runner's file into the package folder {target}: {e.Message}", path));
            }
        }

        return files.Count;
    }

    /// <summary>Every file outside release/ with its SHA-256, but the output of runs started from the folder.</summary>
    private static List<PackageFile> List(string packageDirectory)
    {
        var files = new List<PackageFile>();
        foreach (var entry in PackageFolder.EntriesOutside(packageDirectory, ReleaseLayout.FolderName))
        {
            if (PackageFolder.IsRunnerOutput(entry.RelativePath))
            {
                continue;
            }

            if (entry.IsLink)
            {
                // The verifier refuses links (they may point anywhere); refusing them here says so at publish time.
                throw new DiagnosticException(Diagnostic.Error(
                    DiagnosticCodes.UnsafeManifestPath,
                    $"{entry.RelativePath} in the publish folder is a symbolic link: a release package holds plain files only, and the runner would refuse it. " +
                    "Replace the link with the file, or remove it, and publish again.",
                    entry.FullPath));
            }

            try
            {
                files.Add(new PackageFile(entry.RelativePath, Common.Sha256.HexOfFile(entry.FullPath)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DiagnosticException(Diagnostic.Error(
                    DiagnosticCodes.UnreadableFile, $"cannot read a file of the publish folder to list it in {ReleaseLayout.ManifestName}: {e.Message}", entry.FullPath));
            }
        }

        return files;
    }
}
