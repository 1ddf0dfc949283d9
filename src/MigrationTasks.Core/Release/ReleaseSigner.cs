using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Release;

/// <summary>
/// Signs a release: a detached CMS signature (SHA-256) of <c>manifest.json</c>'s exact bytes in
/// <c>manifest.json.sig</c>. The manifest holds every file's hash, so the one signature covers the whole package.
/// The certificate is a PFX or a PEM file holding certificate and private key; its password comes only from
/// <see cref="PasswordVariable"/>, never from a command line.
/// </summary>
public static class ReleaseSigner
{
    public const string PasswordVariable = "MIGRATIONTASKS_SIGNING_PASSWORD";

    /// <summary>SHA-256; the verifier refuses signatures made with a weaker digest.</summary>
    internal static readonly Oid DigestAlgorithm = new("2.16.840.1.101.3.4.2.1");

    /// <summary>Loads a signing certificate with its private key, or throws MIG5005 naming the file (never the password).</summary>
    public static X509Certificate2 LoadCertificate(string path, string? password)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unusable(path, $"cannot read the file: {e.Message}");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = IsPem(bytes) ? FromPem(Encoding.ASCII.GetString(bytes), password) : FromPkcs12(bytes, password);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            var hint = string.IsNullOrEmpty(password)
                ? $"{PasswordVariable} is not set; set it if the key is protected by a password"
                : $"check that the password in {PasswordVariable} is this file's";
            throw Unusable(path, $"it is not a PFX or PEM certificate with its private key that can be opened ({e.Message}); {hint}");
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw Unusable(path, "it holds a certificate without its private key; a PFX, or a PEM file with both the certificate and the key, is needed to sign");
        }

        return certificate;
    }

    /// <summary>The detached signature of <paramref name="content"/>, DER-encoded CMS SignedData.</summary>
    public static byte[] Sign(byte[] content, X509Certificate2 certificate)
    {
        var cms = new SignedCms(new ContentInfo(content), detached: true);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate)
        {
            DigestAlgorithm = DigestAlgorithm,
            // The signer's own certificate travels with the signature; the verifier compares it with the trusted one.
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        cms.ComputeSignature(signer, silent: true);
        return cms.Encode();
    }

    /// <summary>Writes <c>manifest.json.sig</c> beside the manifest of <paramref name="releaseDirectory"/>.</summary>
    public static void SignManifest(string releaseDirectory, X509Certificate2 certificate)
    {
        var manifest = File.ReadAllBytes(Path.Combine(releaseDirectory, ReleaseLayout.ManifestName));
        File.WriteAllBytes(Path.Combine(releaseDirectory, ReleaseLayout.SignatureName), Sign(manifest, certificate));
    }

    private static bool IsPem(byte[] bytes) =>
        Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 4096)).Contains("-----BEGIN ", StringComparison.Ordinal);

    private static X509Certificate2 FromPem(string pem, string? password) =>
        pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromEncryptedPem(pem, pem, password ?? "")
            : X509Certificate2.CreateFromPem(pem, pem);

    // EphemeralKeySet: the key stays in memory, nothing is written to a key store of the machine.
    private static X509Certificate2 FromPkcs12(byte[] bytes, string? password) =>
        new(bytes, password, X509KeyStorageFlags.EphemeralKeySet);

    private static DiagnosticException Unusable(string path, string why) =>
        new(Diagnostic.Error(
            DiagnosticCodes.SigningCertificateUnusable,
            $"the signing certificate (MigrationSigningCertificate) cannot be used: {why}.",
            path));
}
