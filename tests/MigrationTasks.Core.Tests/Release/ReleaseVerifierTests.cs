using System.Security.Cryptography.X509Certificates;
using MigrationTasks.Diagnostics;
using MigrationTasks.Production;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>`migrate verify`: a signed release passes only untouched and from the trusted signer; each tampering has its code.</summary>
[Parallelizable(ParallelScope.All)]
public sealed class ReleaseVerifierTests
{
    private static readonly X509Certificate2 Signer = TestCertificates.Rsa("Shop Releases");
    private static readonly X509Certificate2 Stranger = TestCertificates.Ecdsa("Someone Else");

    private static (ReleaseFolder Release, string TrustPem) SignedRelease()
    {
        var release = ReleaseFolder.Create();
        release.Sign(Signer);
        return (release, TestCertificates.WritePublicPem(Signer, Path.Combine(release.Root, "signer.pem")));
    }

    private static string Codes(ReleaseVerification result) =>
        string.Join(", ", result.Diagnostics.Select(d => d.Code));

    [Test]
    public void A_signed_untouched_release_passes_with_the_signers_PEM_certificate()
    {
        var (release, trust) = SignedRelease();

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Passed, Is.True);
        Assert.That(result.Signer, Does.Contain("CN=Shop Releases").And.Contain(ReleaseTrust.ThumbprintOf(Signer)));
        Assert.That(result.Manifest!.Files, Has.Count.EqualTo(5));
    }

    [Test]
    public void A_signed_untouched_release_passes_with_the_signers_SHA256_thumbprint_in_any_case_with_colons()
    {
        var (release, _) = SignedRelease();
        var thumbprint = ReleaseTrust.ThumbprintOf(Signer).ToLowerInvariant();
        var withColons = string.Join(':', Enumerable.Range(0, 32).Select(i => thumbprint.Substring(i * 2, 2)));

        var result = ReleaseVerifier.Verify(release.Directory, withColons, allowUnsigned: false);

        Assert.That(result.Diagnostics, Is.Empty);
        Assert.That(result.Passed, Is.True);
    }

    [Test]
    public void One_flipped_byte_in_a_script_fails_with_MIG5014_naming_the_file()
    {
        var (release, trust) = SignedRelease();
        var script = release.PathOf("migrations/V1__create.sql");
        var bytes = File.ReadAllBytes(script);
        bytes[7] ^= 0x01;
        File.WriteAllBytes(script, bytes);

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(result.Passed, Is.False);
        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.ReleaseFileChanged));
        Assert.That(problem.IsError, Is.True);
        Assert.That(problem.File, Is.EqualTo(script));
        Assert.That(problem.Message, Does.StartWith("migrations/V1__create.sql has SHA-256"));
    }

    [Test]
    public void An_added_file_fails_with_MIG5016_even_a_hidden_one()
    {
        var (release, trust) = SignedRelease();
        var added = release.Write("migrations/V3__extra.sql", "DROP TABLE a;");
        var hidden = release.Write("checks/.sneaky.sql", "SELECT 1 WHERE false;");

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.File)), Is.EquivalentTo(new[]
        {
            (DiagnosticCodes.UnlistedReleaseFile, (string?)added),
            (DiagnosticCodes.UnlistedReleaseFile, (string?)hidden),
        }));
    }

    [Test]
    public void A_removed_file_fails_with_MIG5015_naming_it()
    {
        var (release, trust) = SignedRelease();
        var removed = release.PathOf("verify/sub/has_a.sql");
        File.Delete(removed);

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.ReleaseFileMissing));
        Assert.That(problem.File, Is.EqualTo(removed));
    }

    [Test]
    public void Every_file_problem_is_reported_not_only_the_first()
    {
        var (release, trust) = SignedRelease();
        release.Write("plan.md", "# a different plan\n");
        File.Delete(release.PathOf("checks/no_orphans.sql"));
        release.Write("extra.txt", "x");

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(result.Diagnostics.Select(d => d.Code), Is.EquivalentTo(new[]
        {
            DiagnosticCodes.ReleaseFileChanged, DiagnosticCodes.ReleaseFileMissing, DiagnosticCodes.UnlistedReleaseFile,
        }));
    }

    [Test]
    public void A_release_signed_by_another_certificate_fails_with_MIG5012_naming_the_signer()
    {
        var release = ReleaseFolder.Create();
        release.Sign(Stranger);
        var trust = TestCertificates.WritePublicPem(Signer, Path.Combine(release.Root, "signer.pem"));

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.UntrustedSigner));
        Assert.That(problem.Message, Does.Contain("CN=Someone Else").And.Contain(ReleaseTrust.ThumbprintOf(Stranger)));
        Assert.That(result.Signer, Is.Null);
        Assert.That(ReleaseVerifier.Verify(release.Directory, ReleaseTrust.ThumbprintOf(Signer), false).Diagnostics.Single().Code,
            Is.EqualTo(DiagnosticCodes.UntrustedSigner), "the same with a thumbprint");
    }

    [Test]
    public void A_manifest_changed_after_signing_fails_with_MIG5011()
    {
        var (release, trust) = SignedRelease();
        // A consistent manifest for a changed script, but not re-signed: only the signature can tell.
        release.Write("migrations/V1__create.sql", "CREATE TABLE a (id int); DROP TABLE important;\n");
        release.WriteManifest();

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.InvalidSignature));
        Assert.That(problem.File, Is.EqualTo(release.PathOf(ReleaseLayout.SignatureName)));
        Assert.That(ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: true).Passed, Is.False, "--allow-unsigned never excuses a broken signature");
    }

    [TestCase(new byte[] { 0x20 })]
    [TestCase(new byte[] { 0x30, 0x00 })]
    public void A_signature_file_with_bytes_appended_fails_with_MIG5011(byte[] appended)
    {
        var (release, trust) = SignedRelease();
        using (var signature = File.Open(release.PathOf(ReleaseLayout.SignatureName), FileMode.Append))
        {
            signature.Write(appended);
        }

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(Codes(result), Is.EqualTo(DiagnosticCodes.InvalidSignature));
        Assert.That(result.Diagnostics.Single().Message, Does.Contain("follow the signature"));
    }

    [TestCase("../outside.sql")]
    [TestCase("migrations/../../outside.sql")]
    [TestCase("/etc/hostname")]
    [TestCase("migrations\\..\\..\\outside.sql")]
    [TestCase("migrations//V1__create.sql")]
    public void A_manifest_path_outside_the_folder_fails_with_MIG5008_before_any_file_is_read(string hostile)
    {
        var release = ReleaseFolder.Create();
        var outside = Path.Combine(release.Root, "outside.sql");
        File.WriteAllText(outside, "DROP TABLE a;");
        // The hostile entry carries the right hash of the real file it points at, and the manifest is properly signed:
        // only the path rule can refuse it.
        release.WriteManifest(new ReleaseFile(hostile, ReleaseFile.Of(release.Root, "outside.sql", ReleaseFileRole.Migration).Sha256, ReleaseFileRole.Migration));
        release.Sign(Signer);

        var result = ReleaseVerifier.Verify(release.Directory, ReleaseTrust.ThumbprintOf(Signer), allowUnsigned: false);

        var problem = result.Diagnostics.Single();
        Assert.That(problem.Code, Is.EqualTo(DiagnosticCodes.UnsafeManifestPath));
        Assert.That(problem.Message, Does.Contain($"'{hostile}'"));
        Assert.That(problem.File, Is.EqualTo(release.PathOf(ReleaseLayout.ManifestName)));
    }

    [Test]
    public void A_listed_file_replaced_by_a_symbolic_link_fails_with_MIG5008_even_when_its_target_has_the_right_bytes()
    {
        var (release, trust) = SignedRelease();
        var script = release.PathOf("migrations/V1__create.sql");
        var elsewhere = Path.Combine(release.Root, "elsewhere.sql");
        File.Move(script, elsewhere);
        File.CreateSymbolicLink(script, elsewhere);
        var folder = release.PathOf("verify/sub");
        Directory.Move(folder, Path.Combine(release.Root, "sub"));
        Directory.CreateSymbolicLink(folder, Path.Combine(release.Root, "sub"));

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(result.Diagnostics.Where(d => d.IsError).Select(d => (d.Code, d.File)), Is.SupersetOf(new[]
        {
            (DiagnosticCodes.UnsafeManifestPath, (string?)script),
            (DiagnosticCodes.UnsafeManifestPath, (string?)release.PathOf("verify/sub/has_a.sql")),
        }));
        Assert.That(result.Passed, Is.False);
    }

    [Test]
    public void Symbolic_links_to_folders_in_the_release_folder_are_reported_not_followed_even_in_a_loop()
    {
        var (release, trust) = SignedRelease();
        Directory.CreateSymbolicLink(release.PathOf("migrations/loop"), "..");
        Directory.CreateSymbolicLink(release.PathOf("checks/out"), Path.GetTempPath());

        // Followed, the loop never ended: release/migrations/loop/migrations/loop/…
        var result = Traps.Within(() => ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false));

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.File)), Is.EquivalentTo(new[]
        {
            (DiagnosticCodes.UnlistedReleaseFile, (string?)release.PathOf("checks/out")),
            (DiagnosticCodes.UnlistedReleaseFile, (string?)release.PathOf("migrations/loop")),
        }));
    }

    [Test]
    public void A_listed_file_replaced_by_a_FIFO_fails_with_MIG5014_without_being_opened()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("FIFOs are made with mkfifo");
        }

        var (release, trust) = SignedRelease();
        var script = release.PathOf("migrations/V1__create.sql");
        File.Delete(script);
        Traps.MakeFifo(script);

        // Opened, the FIFO blocked the verifier until someone wrote to it.
        var result = Traps.Within(() => ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false));

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.File)), Is.EqualTo(new[] { (DiagnosticCodes.ReleaseFileChanged, (string?)script) }));
    }

    [Test]
    public void A_verified_release_resolves_its_files_inside_the_folder()
    {
        var (release, trust) = SignedRelease();

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(result.Manifest!.FilesWithRole(ReleaseFileRole.Migration).Select(result.PathOf),
            Is.EqualTo(new[] { release.PathOf("migrations/V1__create.sql"), release.PathOf("migrations/V2__index.sql") }));
    }

    [Test]
    public void Files_changed_on_disk_after_verification_are_not_what_the_runner_reads()
    {
        var (release, trust) = SignedRelease();
        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        // What an attacker (or a careless job) does while the deploy waits for the lock.
        release.Write("verify/sub/has_a.sql", "SELECT 1 WHERE false; -- always passes\n");
        release.Write("migrations/V1__create.sql", "DROP TABLE a;\n");
        var toDeploy = ReleaseToDeploy.From(result);

        Assert.That(toDeploy.Verify.Single().Text, Is.EqualTo("SELECT 1 WHERE to_regclass('a') IS NULL;\n"));
        Assert.That(toDeploy.Verify.Single().Path, Is.EqualTo(release.PathOf("verify/sub/has_a.sql")));
        Assert.That(toDeploy.Migrations.Select(m => m.Text), Is.EqualTo(new[] { "CREATE TABLE a (id int);\n", "CREATE INDEX CONCURRENTLY a_id ON a (id);\n" }));
        Assert.That(toDeploy.Checks.Single().Text, Is.EqualTo("SELECT 1 WHERE false;\n"));
    }

    [TestCase("../../outside.json")]
    [TestCase("/etc/passwd")]
    [TestCase("plan.md")]
    [TestCase("baseline.json")]
    public void A_baseline_file_the_manifest_does_not_list_as_the_baseline_is_refused_with_MIG5008_and_never_read(string baselineFile)
    {
        var release = ReleaseFolder.Create();
        File.WriteAllText(Path.Combine(release.Root, "outside.json"), "{}");
        release.WriteManifest(new ExpectedPreState(false, baselineFile, [], "0000"));

        var result = ReleaseVerifier.Verify(release.Directory, null, allowUnsigned: true);

        Assert.That(result.Passed, Is.False);
        Assert.That(result.Diagnostics.Where(d => d.IsError).Select(d => d.Code), Is.EqualTo(new[] { DiagnosticCodes.UnsafeManifestPath }));
        Assert.That(result.Diagnostics.Single(d => d.IsError).Message, Does.Contain($"'{baselineFile}'"));
        Assert.Throws<DiagnosticException>(() => ReleaseToDeploy.From(result));
    }

    [Test]
    public void A_listed_baseline_is_read_from_its_verified_bytes()
    {
        var release = ReleaseFolder.Create();
        var baseline = new MigrationBaseline("PostgreSql", DateTimeOffset.UtcNow, null, [], new MigrationTasks.Schema.SchemaSnapshot([]));
        release.Write(ReleaseLayout.BaselineName, baseline.ToJson());
        release.WriteManifest(new ExpectedPreState(false, ReleaseLayout.BaselineName, [], baseline.SchemaHash));
        var result = ReleaseVerifier.Verify(release.Directory, null, allowUnsigned: true);

        File.WriteAllText(release.PathOf(ReleaseLayout.BaselineName), "not json any more");

        Assert.That(result.Passed, Is.True, Codes(result));
        Assert.That(ReleaseToDeploy.From(result).BaselineSchema!.Hash, Is.EqualTo(baseline.SchemaHash));
    }

    [Test]
    public void An_unsigned_release_fails_with_MIG5009_unless_allow_unsigned_which_warns_MIG5010()
    {
        var release = ReleaseFolder.Create();

        var refused = ReleaseVerifier.Verify(release.Directory, ReleaseTrust.ThumbprintOf(Signer), allowUnsigned: false);
        var allowed = ReleaseVerifier.Verify(release.Directory, null, allowUnsigned: true);

        Assert.That(refused.Passed, Is.False);
        Assert.That(refused.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.UnsignedRelease));
        Assert.That(allowed.Passed, Is.True);
        Assert.That(allowed.Diagnostics.Single(), Has.Property("Code").EqualTo(DiagnosticCodes.SignerNotChecked).And.Property("IsError").False);
    }

    [Test]
    public void A_signed_release_without_trust_is_refused_with_MIG5013()
    {
        var (release, _) = SignedRelease();

        var result = ReleaseVerifier.Verify(release.Directory, null, allowUnsigned: false);

        Assert.That(Codes(result), Is.EqualTo(DiagnosticCodes.InvalidTrust));
    }

    [TestCase("not-a-file-or-thumbprint")]
    [TestCase("0123456789abcdef0123456789abcdef01234567")]
    public void A_trust_that_is_neither_a_file_nor_a_SHA256_thumbprint_fails_with_MIG5013(string trust)
    {
        var (release, _) = SignedRelease();

        var result = ReleaseVerifier.Verify(release.Directory, trust, allowUnsigned: false);

        Assert.That(Codes(result), Is.EqualTo(DiagnosticCodes.InvalidTrust));
        Assert.That(result.Diagnostics[0].Message, Does.Contain(trust.Length == 40 ? "SHA-1" : "neither"));
    }

    [Test]
    public void A_missing_release_folder_or_manifest_fails_with_MIG5006_and_a_broken_manifest_with_MIG5007()
    {
        var release = ReleaseFolder.Create();

        Assert.That(Codes(ReleaseVerifier.Verify(Path.Combine(release.Root, "nothing"), null, true)), Is.EqualTo(DiagnosticCodes.ReleaseManifestMissing));

        File.WriteAllText(release.PathOf(ReleaseLayout.ManifestName), "{\"schemaVersion\": 2}");
        Assert.That(Codes(ReleaseVerifier.Verify(release.Directory, null, true)), Is.EqualTo($"{DiagnosticCodes.SignerNotChecked}, {DiagnosticCodes.ReleaseManifestInvalid}"));

        File.Delete(release.PathOf(ReleaseLayout.ManifestName));
        Assert.That(Codes(ReleaseVerifier.Verify(release.Directory, null, true)), Is.EqualTo(DiagnosticCodes.ReleaseManifestMissing));
    }
}
