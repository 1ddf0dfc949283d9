using System.Security.Cryptography.X509Certificates;
using System.Text;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Release;

/// <summary>
/// What every package step does, whatever wrote the release's scripts (a migrations project's planner, or a
/// state-based project's generated script): a clean <c>release/</c> in the publish folder, files written into it
/// with their roles, Checks/ and Verify/ copied, then the runner beside it, <c>manifest.json</c> listing every file
/// of both with its SHA-256, and the signature. Writers add their own files and fill in the manifest's states.
/// </summary>
public sealed class ReleaseFolderWriter
{
    private static readonly UTF8Encoding Utf8 = new(false);
    private readonly List<(string Path, ReleaseFileRole Role)> _files = [];

    private ReleaseFolderWriter(string publishDirectory)
    {
        PublishDirectory = publishDirectory;
        Directory = Path.Combine(publishDirectory, ReleaseLayout.FolderName);
    }

    /// <summary>The folder that holds <c>release/</c> and the runner.</summary>
    public string PublishDirectory { get; }

    /// <summary><c>release/</c> itself.</summary>
    public string Directory { get; }

    /// <summary>
    /// Deletes what an earlier publish left in <c>release/</c> (a file left there would be unlisted, and the verifier
    /// would rightly refuse it); with <paramref name="create"/>, makes it again, empty.
    /// </summary>
    public static ReleaseFolderWriter Clear(string publishDirectory, bool create = true)
    {
        var folder = new ReleaseFolderWriter(Path.GetFullPath(publishDirectory));
        if (System.IO.Directory.Exists(folder.Directory))
        {
            System.IO.Directory.Delete(folder.Directory, recursive: true);
        }

        if (create)
        {
            System.IO.Directory.CreateDirectory(folder.Directory);
        }

        return folder;
    }

    /// <summary>
    /// The signing certificate MigrationSigningCertificate names (its password only in the environment), or null when
    /// it is not set: loaded before any slow work, so that a wrong certificate or password fails the publish at once.
    /// </summary>
    public static X509Certificate2? LoadSigningCertificate(string? path) =>
        string.IsNullOrEmpty(path) ? null : ReleaseSigner.LoadCertificate(path, Environment.GetEnvironmentVariable(ReleaseSigner.PasswordVariable));

    /// <summary>Copies one file into the release; MIG2006 when it cannot. Returns its path relative to <c>release/</c>.</summary>
    public string Copy(string source, string relativePath, ReleaseFileRole role)
    {
        var target = PathOf(relativePath);
        try
        {
            File.Copy(source, target, overwrite: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.UnreadableFile, $"cannot copy the file into the release: {e.Message}", source));
        }

        _files.Add((relativePath, role));
        return relativePath;
    }

    /// <summary>Writes a text file (UTF-8, no byte order mark) into the release.</summary>
    public string WriteText(string relativePath, string text, ReleaseFileRole role)
    {
        File.WriteAllText(PathOf(relativePath), text, Utf8);
        _files.Add((relativePath, role));
        return relativePath;
    }

    /// <summary>Copies files under <paramref name="folder"/>, keeping their paths below the folder they share; returns their release paths.</summary>
    public IReadOnlyList<string> CopyAll(IReadOnlyList<string> sources, string folder, ReleaseFileRole role)
    {
        var full = sources.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        var common = CommonFolder(full);
        return [.. full.Order(StringComparer.Ordinal)
            .Select(source => Copy(source, $"{folder}/{Path.GetRelativePath(common, source).Replace(Path.DirectorySeparatorChar, '/')}", role))];
    }

    /// <summary>
    /// The end of every package step: the runner copied beside release/, then manifest.json listing every file of
    /// release/ and every file beside it with its SHA-256, so that the one signature covers the runner; then the
    /// signature when a certificate is given. Returns the manifest as written.
    /// </summary>
    public ReleaseManifest Finish(ReleaseManifest manifest, string? runnerDirectory, X509Certificate2? certificate, Reporter reporter)
    {
        manifest = manifest with
        {
            Files = [.. _files.Select(f => ReleaseFile.Of(Directory, f.Path, f.Role)).OrderBy(f => f.Path, StringComparer.Ordinal)],
            PackageFiles = new PackageFolderWriter(reporter).Write(runnerDirectory, PublishDirectory),
        };
        File.WriteAllText(Path.Combine(Directory, ReleaseLayout.ManifestName), manifest.ToJson(), Utf8);
        reporter.Info($"{ReleaseLayout.ManifestName}: {manifest.Files.Count} file(s) in {ReleaseLayout.FolderName}/ and {manifest.PackageFiles.Count} beside it (the runner), each with its SHA-256.");
        if (certificate is not null)
        {
            ReleaseSigner.SignManifest(Directory, certificate);
            reporter.Info($"Signed {ReleaseLayout.ManifestName} with {certificate.Subject}, SHA-256 thumbprint {ReleaseTrust.ThumbprintOf(certificate)} " +
                          "(verify with `dotnet migrate.dll verify --trust <that thumbprint or the certificate's PEM file>`).");
        }
        else
        {
            reporter.Info("The release is not signed (MigrationSigningCertificate is not set): the runner accepts it only with --allow-unsigned.");
        }

        return manifest;
    }

    private string PathOf(string relativePath)
    {
        var path = Path.Combine(Directory, relativePath.Replace('/', Path.DirectorySeparatorChar));
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    private static string CommonFolder(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            return "";
        }

        var common = Path.GetDirectoryName(paths[0])!;
        while (!paths.All(p => p.StartsWith(common.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            common = Path.GetDirectoryName(common)!;
        }

        return common;
    }
}
