using System.IO.Enumeration;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Text;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Release;

/// <summary>What <see cref="ReleaseVerifier"/> found.</summary>
/// <param name="ReleaseDirectory">The release folder, as a full path.</param>
/// <param name="Manifest">The manifest when it could be read (even if problems were found), else null.</param>
/// <param name="Signer">The trusted signer's subject and thumbprint, or null when the signer was not established.</param>
/// <param name="Diagnostics">Every problem found (errors) and every accepted risk (warnings).</param>
public sealed record ReleaseVerification(string ReleaseDirectory, ReleaseManifest? Manifest, string? Signer, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>True when the package may be used: no error at all.</summary>
    public bool Passed => !Diagnostics.Any(d => d.IsError);

    /// <summary>
    /// The bytes of every listed file whose hash matched, by manifest path, exactly as they were hashed: the runner
    /// uses these and never reads a release file again, so a file changed after verification cannot be what runs.
    /// </summary>
    public IReadOnlyDictionary<string, byte[]> Contents { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>SHA-256 of manifest.json as verified: the release's identity in the database's deploy history.</summary>
    public string? ManifestSha256 { get; init; }

    /// <summary>Where a file of the (verified) manifest is on disk.</summary>
    public string PathOf(ReleaseFile file) =>
        Path.Combine(ReleaseDirectory, file.Path.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>A verified file: its path on disk (for diagnostics) and the bytes that were hashed.</summary>
    public Common.SourceFile SourceOf(ReleaseFile file) =>
        Contents.TryGetValue(file.Path, out var bytes)
            ? new Common.SourceFile(PathOf(file), bytes)
            : throw new InvalidOperationException($"{file.Path} was not verified");
}

/// <summary>
/// <c>migrate verify</c>: is this release exactly what the trusted signer published? Touches no database. The
/// signature must be valid over manifest.json and made by the trusted certificate; the manifest's paths must stay
/// inside the release folder (checked before any of them is opened); every listed file must be there with its hash,
/// and nothing else may be. The same holds for the package folder around release/ (the runner beside it), except
/// that files there which the .NET host would not load (reports and backups of runs started from that folder) may
/// be added. Every file problem is reported, not just the first.
/// </summary>
public static class ReleaseVerifier
{
    private static readonly HashSet<string> StrongDigests = new(StringComparer.Ordinal)
    {
        "2.16.840.1.101.3.4.2.1", // SHA-256
        "2.16.840.1.101.3.4.2.2", // SHA-384
        "2.16.840.1.101.3.4.2.3", // SHA-512
    };

    /// <param name="releaseDirectory">The <c>release/</c> folder.</param>
    /// <param name="trust">The <c>--trust</c> value: a certificate file or a SHA-256 thumbprint; null when not given.</param>
    /// <param name="allowUnsigned">Accept a package whose signer cannot be checked (unsigned, or no trust given), with a warning.</param>
    public static ReleaseVerification Verify(string releaseDirectory, string? trust, bool allowUnsigned)
    {
        // Without a trailing separator, so that its parent is the package folder (a shell completes "release/").
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(releaseDirectory));
        var problems = new List<Diagnostic>();
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            var (manifest, signer, manifestSha256) = Verify(root, trust, allowUnsigned, problems, contents);
            return new ReleaseVerification(root, manifest, problems.Any(p => p.IsError) ? null : signer, problems)
            {
                Contents = contents,
                ManifestSha256 = manifestSha256,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A package that cannot be read completely is not verified: refused like any other problem.
            problems.Add(Diagnostic.Error(DiagnosticCodes.ReleaseManifestMissing, $"the release package (release/ and the folder around it) cannot be read: {e.Message}", root));
            return new ReleaseVerification(root, null, null, problems);
        }
    }

    /// <returns>The manifest (when readable), the trusted signer (when established), and the manifest's SHA-256.</returns>
    private static (ReleaseManifest? Manifest, string? Signer, string? ManifestSha256) Verify(
        string root, string? trust, bool allowUnsigned, List<Diagnostic> problems, Dictionary<string, byte[]> contents)
    {
        var manifestPath = Path.Combine(root, ReleaseLayout.ManifestName);
        if (!File.Exists(manifestPath))
        {
            problems.Add(Diagnostic.Error(
                DiagnosticCodes.ReleaseManifestMissing,
                Directory.Exists(root)
                    ? $"the release folder {root} has no {ReleaseLayout.ManifestName}: it is not a release package. Publish the database project again."
                    : $"there is no release folder at {root}. Pass --release-dir, or run the migrate.dll that `dotnet publish` put beside release/.",
                manifestPath));
            return (null, null, null);
        }

        var manifestBytes = ReadBytes(manifestPath);
        var manifestSha256 = Common.Sha256.Hex(manifestBytes);
        var signer = CheckSignature(root, manifestBytes, trust, allowUnsigned, problems);

        ReleaseManifest manifest;
        try
        {
            manifest = ReleaseManifest.Parse(new UTF8Encoding(false).GetString(manifestBytes));
        }
        catch (InvalidDataException e)
        {
            problems.Add(Diagnostic.Error(DiagnosticCodes.ReleaseManifestInvalid, $"{ReleaseLayout.ManifestName} cannot be used: {e.Message}.", manifestPath));
            return (null, null, null);
        }

        var packageRoot = Path.GetDirectoryName(root);
        if (packageRoot is null)
        {
            problems.Add(Diagnostic.Error(
                DiagnosticCodes.ReleaseManifestMissing,
                $"the release folder {root} is the root of the file system, so there is no package folder around it to hold its runner. Copy the whole publish folder elsewhere.",
                manifestPath));
            return (manifest, null, manifestSha256);
        }

        // A hostile manifest must not make the verifier read (or report on) anything outside the folder.
        var releaseFolderName = Path.GetFileName(root);
        var unsafePaths =
            ReportUnsafePaths(
                manifest.Files.Select(f => f.Path),
                path => WhyUnsafe(root, path, "release"),
                "the path",
                "Manifest paths are relative to release/ and stay inside it",
                manifestPath,
                problems)
            + ReportUnsafePaths(
                manifest.PackageFiles.Select(f => f.Path),
                path => WhyUnsafe(packageRoot, path, "package") ?? WhyInsideRelease(path, releaseFolderName),
                "the package file",
                "Package file paths are relative to the folder that holds release/ and stay inside it, outside release/",
                manifestPath,
                problems);
        if (unsafePaths > 0)
        {
            return (manifest, null, manifestSha256);
        }

        // The baseline the deploy compares production with is read through the manifest like every other file:
        // a name the manifest does not list as the baseline (e.g. "../../outside.json") is never opened.
        if (manifest.ExpectedPreState.BaselineFile is { } baseline
            && !manifest.Files.Any(f => f.Path == baseline && f.Role == ReleaseFileRole.Baseline))
        {
            problems.Add(Diagnostic.Error(
                DiagnosticCodes.UnsafeManifestPath,
                $"{ReleaseLayout.ManifestName} names '{baseline}' as the expected pre-state's baseline file, but does not list that path as the baseline with its SHA-256: " +
                "it was not read. This package was not written by `dotnet publish`: do not deploy it.",
                manifestPath));
        }

        CheckFiles(root, manifest, problems, contents);
        CheckPackageFiles(packageRoot, releaseFolderName, manifest, problems);
        return (manifest, signer, manifestSha256);
    }

    /// <summary>Checks manifest.json.sig; returns the signer's description when it is the trusted one.</summary>
    private static string? CheckSignature(string root, byte[] manifest, string? trustValue, bool allowUnsigned, List<Diagnostic> problems)
    {
        var signaturePath = Path.Combine(root, ReleaseLayout.SignatureName);
        var manifestPath = Path.Combine(root, ReleaseLayout.ManifestName);
        if (!File.Exists(signaturePath))
        {
            problems.Add(allowUnsigned
                ? Diagnostic.Warning(DiagnosticCodes.SignerNotChecked, $"the release is not signed (no {ReleaseLayout.SignatureName}); accepted because of --allow-unsigned.", manifestPath)
                : Diagnostic.Error(
                    DiagnosticCodes.UnsignedRelease,
                    $"the release is not signed (no {ReleaseLayout.SignatureName}), so nobody vouches for it: refused. Sign releases by setting " +
                    "MigrationSigningCertificate when publishing, or pass --allow-unsigned to accept an unsigned one knowingly.",
                    manifestPath));
            return null;
        }

        ReleaseTrust? trust = null;
        if (string.IsNullOrWhiteSpace(trustValue))
        {
            if (!allowUnsigned)
            {
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.InvalidTrust,
                    "--trust is required: the signer's certificate (PEM file) or its SHA-256 thumbprint. Pass --allow-unsigned to skip the signer check knowingly."));
            }
            else
            {
                problems.Add(Diagnostic.Warning(DiagnosticCodes.SignerNotChecked, "no --trust given: the signature is checked, its signer is not; accepted because of --allow-unsigned.", signaturePath));
            }
        }
        else
        {
            try
            {
                trust = ReleaseTrust.Parse(trustValue);
            }
            catch (DiagnosticException e)
            {
                problems.AddRange(e.Diagnostics);
            }
        }

        var cms = new SignedCms(new ContentInfo(manifest), detached: true);
        try
        {
            var signature = ReadBytes(signaturePath);
            // The decoder reads one encoded value and ignores what follows: a signature file with bytes added is not
            // the one that was published, whatever the bytes.
            System.Formats.Asn1.AsnDecoder.ReadEncodedValue(signature, System.Formats.Asn1.AsnEncodingRules.BER, out _, out _, out var length);
            if (length != signature.Length)
            {
                throw new CryptographicException($"{signature.Length - length} byte(s) follow the signature");
            }

            cms.Decode(signature);
            cms.CheckSignature(verifySignatureOnly: true);
        }
        catch (System.Formats.Asn1.AsnContentException e)
        {
            problems.Add(Diagnostic.Error(
                DiagnosticCodes.InvalidSignature,
                $"{ReleaseLayout.SignatureName} is not a signature ({e.Message.TrimEnd('.')}): it was damaged or replaced. Do not deploy this package; publish it again.",
                signaturePath));
            return null;
        }
        catch (CryptographicException e)
        {
            problems.Add(Diagnostic.Error(
                DiagnosticCodes.InvalidSignature,
                $"{ReleaseLayout.ManifestName} does not match its signature ({e.Message.TrimEnd('.')}): it was changed after signing, or the signature is damaged. Do not deploy this package; publish it again.",
                signaturePath));
            return null;
        }

        if (cms.SignerInfos.Count == 0)
        {
            problems.Add(Diagnostic.Error(DiagnosticCodes.InvalidSignature, $"{ReleaseLayout.SignatureName} holds no signer.", signaturePath));
            return null;
        }

        string? trusted = null;
        foreach (var signerInfo in cms.SignerInfos)
        {
            var certificate = signerInfo.Certificate;
            if (certificate is null)
            {
                problems.Add(Diagnostic.Error(DiagnosticCodes.InvalidSignature, $"{ReleaseLayout.SignatureName} does not carry its signer's certificate.", signaturePath));
                continue;
            }

            var thumbprint = ReleaseTrust.ThumbprintOf(certificate);
            if (!StrongDigests.Contains(signerInfo.DigestAlgorithm.Value ?? ""))
            {
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.InvalidSignature,
                    $"the signature by {certificate.Subject} uses the digest {signerInfo.DigestAlgorithm.FriendlyName ?? signerInfo.DigestAlgorithm.Value}; SHA-256 or stronger is required.",
                    signaturePath));
            }
            else if (trust is not null && !trust.Trusts(certificate))
            {
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.UntrustedSigner,
                    $"the release is signed by {certificate.Subject} (SHA-256 {thumbprint}), which is not the trusted signer ({trust.Description}). " +
                    "Pass the right --trust, or find out who signed this package before deploying it.",
                    signaturePath));
            }
            else if (trust is not null)
            {
                trusted = $"{certificate.Subject} (SHA-256 {thumbprint})";
            }
        }

        return trusted;
    }

    private static void CheckFiles(string root, ReleaseManifest manifest, List<Diagnostic> problems, Dictionary<string, byte[]> contents)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.Files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            listed.Add(file.Path);
            if (ReadListed(root, file.Path, file.Sha256, file.Role.ToString(), ListedFileWording.Release, problems) is { } bytes)
            {
                contents[file.Path] = bytes;
            }
        }

        // Hidden files too: a file nobody sees is still a file the deploy might pick up. A symbolic link is one entry,
        // never entered: a link to a folder may point anywhere, or at a folder around it, which never ends.
        var everyEntry = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        var entries = new FileSystemEnumerable<string>(root, (ref FileSystemEntry entry) => entry.ToFullPath(), everyEntry)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory || IsLink(entry),
            ShouldRecursePredicate = (ref FileSystemEntry entry) => !IsLink(entry),
        };
        foreach (var path in entries.Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (!listed.Contains(relative) && !ReleaseLayout.IsManifestOrSignature(relative))
            {
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.UnlistedReleaseFile,
                    $"{relative} is in the release folder but not in the manifest. Remove it if you put it there; otherwise do not deploy this package.",
                    path));
            }
        }
    }

    private static bool IsLink(in FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) != 0;

    /// <summary>
    /// A file's bytes; one whose size is 0 is not opened. A FIFO or a device, which a hostile package may hold in
    /// place of a file, reports 0 and would block the read (a FIFO until someone writes to it) or never end it; a
    /// plain empty file has nothing to read.
    /// </summary>
    private static byte[] ReadBytes(string path) => new FileInfo(path).Length == 0 ? [] : File.ReadAllBytes(path);

    /// <summary>
    /// The package folder around release/: every listed file there with its hash, and no unlisted file that the .NET
    /// host could load (a startup hook, an extra assembly, a native library). Other unlisted files are the output of
    /// runs started from the folder (migration-report/, migration-backups/) or notes, and may stay.
    /// </summary>
    private static void CheckPackageFiles(string packageRoot, string releaseFolderName, ReleaseManifest manifest, List<Diagnostic> problems)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.PackageFiles.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            listed.Add(file.Path);
            // The bytes are not kept: the runner is already running when it verifies, and the deploy never reads them.
            ReadListed(packageRoot, file.Path, file.Sha256, "a file beside release/", ListedFileWording.BesideRelease, problems);
        }

        foreach (var entry in PackageFolder.EntriesOutside(packageRoot, releaseFolderName))
        {
            if (listed.Contains(entry.RelativePath))
            {
                continue;
            }

            if (PackageFolder.WhatTheHostCouldLoad(entry.RelativePath) is { } what)
            {
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.UnlistedReleaseFile,
                    $"{entry.RelativePath} is beside release/ but not in the manifest, and the .NET host could load it with the runner ({what}). " +
                    "Remove it if you put it there; otherwise do not run this package's migrate.dll or deploy the package.",
                    entry.FullPath));
            }
            else if (entry.IsLink && Directory.Exists(entry.FullPath) && !listed.Any(p => p.StartsWith(entry.RelativePath + "/", StringComparison.Ordinal)))
            {
                // Not followed: it may point anywhere, or at itself. (A listed file under it is refused above.)
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.UnsafeManifestPath,
                    $"{entry.RelativePath} beside release/ is a symbolic link to a folder, which the verifier does not follow: the .NET host could load files through it. " +
                    "Remove the link (give --report-dir or --backup-dir its target instead); otherwise do not run this package's migrate.dll or deploy the package.",
                    entry.FullPath));
            }
        }
    }

    /// <summary>
    /// The bytes of a listed file when it is there, a plain file, with the listed hash; else null, with the problem
    /// reported (MIG5008 through a link, MIG5015 missing or unreadable, MIG5014 changed).
    /// </summary>
    /// <param name="listedAs">What the manifest lists it as, e.g. its role.</param>
    private static byte[]? ReadListed(string root, string relative, string sha256, string listedAs, ListedFileWording words, List<Diagnostic> problems)
    {
        var path = FullPath(root, relative);
        if (LinkOnTheWay(root, relative) is { } link)
        {
            problems.Add(Diagnostic.Error(
                DiagnosticCodes.UnsafeManifestPath,
                $"{relative}{words.Where} is reached through the symbolic link {link}: a package holds plain files only, and a link may point anywhere. {words.Refusal}.",
                path));
            return null;
        }

        if (!File.Exists(path))
        {
            problems.Add(Diagnostic.Error(DiagnosticCodes.ReleaseFileMissing, $"{relative} is listed in the manifest ({listedAs}) but {words.Missing}", path));
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = ReadBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(Diagnostic.Error(DiagnosticCodes.ReleaseFileMissing, $"{relative} is listed in the manifest but cannot be read: {e.Message}", path));
            return null;
        }

        var actual = Common.Sha256.Hex(bytes);
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(Diagnostic.Error(
                DiagnosticCodes.ReleaseFileChanged,
                $"{relative}{words.Where} has SHA-256 {actual} but the manifest says {sha256.ToLowerInvariant()}: the file was changed after the package was made. " +
                $"{words.Refusal}; publish it again.",
                path));
            return null;
        }

        return bytes;
    }

    /// <summary>What a problem with a listed file says, for files of release/ and for files beside it.</summary>
    /// <param name="Where">Appended to the file's path in the message.</param>
    /// <param name="Missing">Ends "… is listed in the manifest but": what to do about a missing file.</param>
    /// <param name="Refusal">What not to do with the package now.</param>
    private sealed record ListedFileWording(string Where, string Missing, string Refusal)
    {
        public static readonly ListedFileWording Release = new(
            "", "missing from the release folder. Copy the whole package, or publish it again.", "Do not deploy this package");

        public static readonly ListedFileWording BesideRelease = new(
            " (beside release/)",
            "missing. Copy the whole publish folder, not only release/, or publish it again.",
            "The .NET host loads it with the runner: do not run this package's migrate.dll or deploy the package");
    }

    /// <summary>Reports (MIG5008) each path that <paramref name="whyUnsafe"/> refuses; returns how many.</summary>
    /// <param name="listedAs">How the message names the entry, e.g. "the package file".</param>
    /// <param name="rule">The rule the paths break, as a sentence.</param>
    private static int ReportUnsafePaths(
        IEnumerable<string> paths, Func<string, string?> whyUnsafe, string listedAs, string rule, string manifestPath, List<Diagnostic> problems)
    {
        var count = 0;
        foreach (var path in paths)
        {
            if (whyUnsafe(path) is { } why)
            {
                count++;
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.UnsafeManifestPath,
                    $"{ReleaseLayout.ManifestName} lists {listedAs} '{path}', which {why}. {rule}; no listed file was read. " +
                    "This package was not written by `dotnet publish`: do not deploy it.",
                    manifestPath));
            }
        }

        return count;
    }

    /// <summary>Null when a package file's path lies outside the release folder, else why it does not.</summary>
    private static string? WhyInsideRelease(string path, string releaseFolderName) =>
        path.Split('/')[0].Equals(releaseFolderName, StringComparison.OrdinalIgnoreCase)
            ? $"points into {releaseFolderName}/ (whose files are listed under \"files\")"
            : null;

    /// <summary>The first symbolic link among the folders and the file of a manifest path, or null.</summary>
    private static string? LinkOnTheWay(string root, string relative)
    {
        var current = root;
        foreach (var segment in relative.Split('/'))
        {
            current = Path.Combine(current, segment);
            FileSystemInfo entry = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (entry.Exists && entry.LinkTarget is not null)
            {
                return current;
            }
        }

        return null;
    }

    /// <summary>Null when the manifest path is a plain relative path inside <paramref name="root"/>, else why not.</summary>
    /// <param name="folder">What <paramref name="root"/> is called in the reason, e.g. "release".</param>
    internal static string? WhyUnsafe(string root, string path, string folder)
    {
        if (path.Length == 0)
        {
            return "is empty";
        }

        if (path.Contains('\\', StringComparison.Ordinal))
        {
            return "holds a backslash (manifest paths use forward slashes only)";
        }

        if (path.StartsWith('/') || Path.IsPathRooted(path) || (path.Length >= 2 && path[1] == ':'))
        {
            return "is absolute";
        }

        var segments = path.Split('/');
        if (segments.Contains(".."))
        {
            return "holds '..'";
        }

        if (segments.Any(s => s.Length == 0 || s == "." || s.Any(c => char.IsControl(c))))
        {
            return "has an empty, '.' or control-character segment";
        }

        var full = FullPath(root, path);
        return full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? null
            : $"escapes the {folder} folder";
    }

    private static string FullPath(string root, string relative) =>
        Path.GetFullPath(Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar)));
}
