using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Release;

/// <summary>
/// The signer a release must come from, given as <c>--trust</c>: a certificate file (PEM, or DER) or the SHA-256
/// thumbprint of the signer's certificate (hex, any case, colons or spaces allowed). No chain is built: a release
/// signer is commonly self-signed, and trust here means "exactly this certificate".
/// </summary>
public sealed class ReleaseTrust
{
    private ReleaseTrust(string thumbprint, string description)
    {
        Thumbprint = thumbprint;
        Description = description;
    }

    /// <summary>Upper-case hex SHA-256 of the trusted certificate's DER bytes.</summary>
    public string Thumbprint { get; }

    /// <summary>For messages: where the trust came from.</summary>
    public string Description { get; }

    /// <summary>Reads a <c>--trust</c> value, or throws MIG5013 saying why it is neither a file nor a thumbprint.</summary>
    public static ReleaseTrust Parse(string value)
    {
        if (File.Exists(value))
        {
            try
            {
                using var certificate = LoadCertificate(value);
                return new ReleaseTrust(ThumbprintOf(certificate), $"{certificate.Subject} from {value}, SHA-256 {ThumbprintOf(certificate)}");
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw Invalid($"--trust names the file {value}, which holds no readable certificate ({e.Message}). Give the signer's certificate as PEM, or its SHA-256 thumbprint.", value);
            }
        }

        var hex = new string(value.Where(c => c is not (':' or ' ' or '-')).ToArray());
        if (hex.Length == 64 && hex.All(char.IsAsciiHexDigit))
        {
            return new ReleaseTrust(hex.ToUpperInvariant(), $"SHA-256 thumbprint {hex.ToUpperInvariant()}");
        }

        var why = hex.Length == 40 && hex.All(char.IsAsciiHexDigit)
            ? "it looks like a SHA-1 thumbprint; give the SHA-256 one (64 hex digits, printed when the package is signed)"
            : "it is neither an existing certificate file nor a SHA-256 thumbprint (64 hex digits, colons allowed)";
        throw Invalid($"--trust '{value}' cannot be used: {why}.", null);
    }

    public bool Trusts(X509Certificate2 certificate) =>
        string.Equals(ThumbprintOf(certificate), Thumbprint, StringComparison.Ordinal);

    /// <summary>Upper-case hex SHA-256 of the certificate's DER bytes, as <c>--trust</c> takes it.</summary>
    public static string ThumbprintOf(X509Certificate2 certificate) =>
        Convert.ToHexString(SHA256.HashData(certificate.RawData));

    private static X509Certificate2 LoadCertificate(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        // A PEM file may also hold a key (the signer's own cert.pem); only the certificate is read.
        return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPem(text)
            : new X509Certificate2(bytes);
    }

    private static DiagnosticException Invalid(string message, string? file) =>
        new(Diagnostic.Error(DiagnosticCodes.InvalidTrust, message, file));
}
