using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>Self-signed signing certificates made on the spot, as a team would make one for its releases.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 Rsa(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public static X509Certificate2 Ecdsa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    /// <summary>The certificate alone, as PEM: what a verifier is given with --trust.</summary>
    public static string WritePublicPem(X509Certificate2 certificate, string path)
    {
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    public static string WritePfx(X509Certificate2 certificate, string path, string? password)
    {
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }

    /// <summary>Certificate and private key in one PEM file, the key encrypted when a password is given.</summary>
    public static string WritePemWithKey(X509Certificate2 certificate, string path, string? password = null)
    {
        using var key = certificate.GetRSAPrivateKey();
        var keyPem = password is null
            ? key!.ExportPkcs8PrivateKeyPem()
            : key!.ExportEncryptedPkcs8PrivateKeyPem(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000));
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n" + keyPem + "\n");
        return path;
    }
}
