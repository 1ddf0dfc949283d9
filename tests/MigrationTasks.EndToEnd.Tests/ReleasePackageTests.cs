using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// `dotnet publish` writes the signed release package and its runner; the runner verifies the package anywhere with
/// only the .NET runtime, and refuses it (exit code 2) once a byte changed.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ReleasePackageTests
{
    private const string Password = "Rel3ase-Signing-Pa55word";

    [Test]
    public async Task Publish_signs_the_release_and_the_runner_verifies_it_with_exit_0_then_refuses_a_changed_byte_with_exit_2()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        project.Write("Verify/every_order_has_a_customer.sql", "SELECT o.id FROM orders o LEFT JOIN customer c ON c.id = o.customer_id WHERE c.id IS NULL;\n");
        var keys = Path.Combine(Path.GetDirectoryName(project.Directory)!, "keys");
        Directory.CreateDirectory(keys);
        using var certificate = CreateSigningCertificate();
        var pfx = Path.Combine(keys, "release-signing.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, Password));
        var trust = Path.Combine(keys, "release-signing.pem");
        File.WriteAllText(trust, certificate.ExportCertificatePem());

        var (refused, refusedOutput) = await project.PublishAsync(
            new Dictionary<string, string?> { ["MIGRATIONTASKS_SIGNING_PASSWORD"] = "not-the-password" }, $"-p:MigrationSigningCertificate={pfx}");
        Assert.That(refused, Is.Not.EqualTo(0), refusedOutput);
        Assert.That(refusedOutput, Does.Contain($"{pfx} : error MIG5005: the signing certificate (MigrationSigningCertificate) cannot be used"));
        Assert.That(refusedOutput, Does.Not.Contain("not-the-password"));

        var binlog = Path.Combine(project.Directory, "publish.binlog");
        var (exitCode, output) = await project.PublishAsync(
            new Dictionary<string, string?> { ["MIGRATIONTASKS_SIGNING_PASSWORD"] = Password }, $"-p:MigrationSigningCertificate={pfx}", "-v:diag", $"-bl:{binlog}");

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("No MigrationBaseline: the release expects an empty database"));
        Assert.That(output, Does.Contain($"SHA-256 thumbprint {Convert.ToHexString(SHA256.HashData(certificate.RawData))}"));
        Assert.That(output, Does.Not.Contain(Password));
        Assert.That(BinaryLogText.ReadAll(binlog), Does.Not.Contain(Password));
        var release = Path.Combine(project.PublishDirectory, "release");
        Assert.That(File.Exists(Path.Combine(project.PublishDirectory, "migrate.dll")), Is.True);
        Assert.That(File.Exists(Path.Combine(release, "manifest.json.sig")), Is.True);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(release, "manifest.json"))))
        {
            Assert.That(manifest.RootElement.GetProperty("expectedPreState").GetProperty("emptyDatabase").GetBoolean(), Is.True);
            Assert.That(manifest.RootElement.GetProperty("expectedPostState").GetProperty("schemaHash").GetString(), Has.Length.EqualTo(64));
            Assert.That(manifest.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()), Is.EqualTo(new[]
            {
                "migrations/R__customer_stats.sql",
                "migrations/V1__create_catalog.sql",
                "migrations/V2__create_orders.sql",
                "migrations/V3__order_total_function.sql",
                "migrations/V4__seed_data.sql",
                "migrations/V5_1__order_summary_view.sql",
                "migrations/V5__index_orders_by_customer.sql",
                "plan.md",
                "verify/every_order_has_a_customer.sql",
            }));
        }

        // What CI archives: the publish folder alone, run elsewhere with nothing but the .NET runtime.
        var archive = CopyFolder(project.PublishDirectory, Path.Combine(Path.GetDirectoryName(project.Directory)!, "archive"));
        var runner = Path.Combine(archive, "migrate.dll");
        var (verified, verifiedOutput) = await ProcessRunner.RunAsync("dotnet", [runner, "verify", "--trust", trust], keys);
        Assert.That(verified, Is.EqualTo(0), verifiedOutput);
        Assert.That(verifiedOutput, Does.Contain("Release package verified: PgShop 1.0.0, 9 file(s) match manifest.json; signed by CN=PgShop Releases"));

        var script = Path.Combine(archive, "release", "migrations", "V2__create_orders.sql");
        var bytes = File.ReadAllBytes(script);
        bytes[^2] ^= 0x20;
        File.WriteAllBytes(script, bytes);
        var (tampered, tamperedOutput) = await ProcessRunner.RunAsync("dotnet", [runner, "verify", "--trust", trust], keys);

        Assert.That(tampered, Is.EqualTo(2), tamperedOutput);
        Assert.That(tamperedOutput, Does.Contain($"{script}: error MIG5014: migrations/V2__create_orders.sql has SHA-256"));
    }

    private static X509Certificate2 CreateSigningCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=PgShop Releases", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static string CopyFolder(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        return target;
    }
}
