using MigrationTasks.Diagnostics;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>Loading the signing certificate: PFX or PEM, password only from the caller, errors that never show it.</summary>
[Parallelizable(ParallelScope.All)]
public sealed class ReleaseSignerTests
{
    private const string Password = "correct-horse-battery-staple";

    private static string TempFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "migrationtasks-signer-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    [Test]
    public void A_password_protected_PFX_signs_a_release_that_verifies()
    {
        using var certificate = TestCertificates.Rsa("Pfx Signer");
        var pfx = TestCertificates.WritePfx(certificate, Path.Combine(TempFolder(), "signer.pfx"), Password);
        var release = ReleaseFolder.Create();

        using (var loaded = ReleaseSigner.LoadCertificate(pfx, Password))
        {
            release.Sign(loaded);
        }

        Assert.That(ReleaseVerifier.Verify(release.Directory, ReleaseTrust.ThumbprintOf(certificate), false).Diagnostics, Is.Empty);
    }

    [TestCase(null)]
    [TestCase(Password)]
    public void A_PEM_file_with_certificate_and_key_signs_a_release_that_verifies(string? password)
    {
        using var certificate = TestCertificates.Rsa("Pem Signer");
        var pem = TestCertificates.WritePemWithKey(certificate, Path.Combine(TempFolder(), "signer.pem"), password);
        var release = ReleaseFolder.Create();

        using (var loaded = ReleaseSigner.LoadCertificate(pem, password))
        {
            release.Sign(loaded);
        }

        // The signer's own PEM (certificate and key) also serves as --trust: only the certificate is read.
        Assert.That(ReleaseVerifier.Verify(release.Directory, pem, false).Diagnostics, Is.Empty);
    }

    [Test]
    public void A_wrong_password_fails_with_MIG5005_naming_the_file_and_not_the_password()
    {
        using var certificate = TestCertificates.Rsa("Pfx Signer");
        var pfx = TestCertificates.WritePfx(certificate, Path.Combine(TempFolder(), "signer.pfx"), Password);
        const string wrong = "wrong-password-1234";

        var error = Assert.Throws<DiagnosticException>(() => ReleaseSigner.LoadCertificate(pfx, wrong))!.Diagnostics.Single();

        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.SigningCertificateUnusable));
        Assert.That(error.File, Is.EqualTo(pfx));
        Assert.That(error.ToString(), Does.Contain(ReleaseSigner.PasswordVariable).And.Not.Contain(wrong).And.Not.Contain(Password));
    }

    [Test]
    public void A_certificate_without_its_private_key_fails_with_MIG5005()
    {
        using var certificate = TestCertificates.Rsa("No Key");
        var pem = TestCertificates.WritePublicPem(certificate, Path.Combine(TempFolder(), "public.pem"));
        var missing = Path.Combine(TempFolder(), "missing.pfx");

        Assert.That(Assert.Throws<DiagnosticException>(() => ReleaseSigner.LoadCertificate(pem, null))!.Diagnostics.Single().Code,
            Is.EqualTo(DiagnosticCodes.SigningCertificateUnusable));
        Assert.That(Assert.Throws<DiagnosticException>(() => ReleaseSigner.LoadCertificate(missing, null))!.Diagnostics.Single().File,
            Is.EqualTo(missing));
    }
}
