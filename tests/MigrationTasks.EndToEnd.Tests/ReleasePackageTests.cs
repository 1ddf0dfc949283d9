using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MigrationTasks.PostgreSql.Tests;

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
            new Dictionary<string, string?> { ["MIGRATIONTASKS_SIGNING_PASSWORD"] = "not-the-password" }, $"-p:MigrationSigningCertificate={pfx}", "-p:MigrationBaseline=");
        Assert.That(refused, Is.Not.EqualTo(0), refusedOutput);
        Assert.That(refusedOutput, Does.Contain($"{pfx} : error MIG5005: the signing certificate (MigrationSigningCertificate) cannot be used"));
        Assert.That(refusedOutput, Does.Not.Contain("not-the-password"));

        var binlog = Path.Combine(project.Directory, "publish.binlog");
        var (exitCode, output) = await project.PublishAsync(
            new Dictionary<string, string?> { ["MIGRATIONTASKS_SIGNING_PASSWORD"] = Password }, $"-p:MigrationSigningCertificate={pfx}", "-p:MigrationBaseline=", "-v:diag", $"-bl:{binlog}");

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
                "checks/customer_emails_are_lower_case.sql",
                "checks/order_lines_are_priced.sql",
                "migrations/R__customer_stats.sql",
                "migrations/V1__create_catalog.sql",
                "migrations/V2__create_orders.sql",
                "migrations/V3__order_total_function.sql",
                "migrations/V4__seed_data.sql",
                "migrations/V5_1__order_summary_view.sql",
                "migrations/V5__index_orders_by_customer.sql",
                "plan.md",
                "verify/customer_index_is_valid.sql",
                "verify/every_order_has_a_customer.sql",
                "verify/order_summary_covers_every_order.sql",
            }));
            // The runner beside release/ is signed with it: every file of the package's tools/net8.0, symbols left out.
            var packageFiles = manifest.RootElement.GetProperty("packageFiles").EnumerateArray().Select(f => f.GetProperty("path").GetString()!).ToList();
            Assert.That(packageFiles, Is.SupersetOf(new[] { "migrate.dll", "migrate.deps.json", "migrate.runtimeconfig.json", "Npgsql.dll", "MigrationTasks.Core.dll" }));
            Assert.That(packageFiles, Has.Some.StartsWith("runtimes/"));
            Assert.That(packageFiles, Has.None.EndsWith(".pdb").And.None.StartsWith("release/"));
            Assert.That(packageFiles.Order(StringComparer.Ordinal), Is.EqualTo(
                Directory.EnumerateFiles(project.PublishDirectory, "*", SearchOption.AllDirectories)
                    .Select(f => Path.GetRelativePath(project.PublishDirectory, f).Replace(Path.DirectorySeparatorChar, '/'))
                    .Where(f => !f.StartsWith("release/", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal)),
                "every file beside release/ is listed");
        }

        // What CI archives: the publish folder alone, run elsewhere with nothing but the .NET runtime.
        var archive = CopyFolder(project.PublishDirectory, Path.Combine(Path.GetDirectoryName(project.Directory)!, "archive"));
        var runner = Path.Combine(archive, "migrate.dll");
        var (verified, verifiedOutput) = await ProcessRunner.RunAsync("dotnet", [runner, "verify", "--trust", trust], keys);
        Assert.That(verified, Is.EqualTo(0), verifiedOutput);
        Assert.That(verifiedOutput, Does.Match(@"Release package verified: PgShop 1\.0\.0, 13 file\(s\) in release/ and \d+ beside it \(the runner\) match manifest\.json; signed by CN=PgShop Releases"));

        var script = Path.Combine(archive, "release", "migrations", "V2__create_orders.sql");
        var bytes = File.ReadAllBytes(script);
        bytes[^2] ^= 0x20;
        File.WriteAllBytes(script, bytes);
        var (tampered, tamperedOutput) = await ProcessRunner.RunAsync("dotnet", [runner, "verify", "--trust", trust], keys);

        Assert.That(tampered, Is.EqualTo(2), tamperedOutput);
        Assert.That(tamperedOutput, Does.Contain($"{script}: error MIG5014: migrations/V2__create_orders.sql has SHA-256"));
    }

    [Test]
    public async Task A_baseline_exported_by_the_runner_limits_the_release_to_what_production_lacks()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var production = await PostgresServer.CreateDatabaseAsync();
        var (built, builtOutput) = await project.BuildAsync(new Dictionary<string, string?> { ["MIGRATIONTASKS_DEV_CONNECTION"] = production });
        Assert.That(built, Is.EqualTo(0), "production gets the sample's migrations: " + builtOutput);
        var (first, firstOutput) = await project.PublishAsync(null, "-p:MigrationBaseline=");
        Assert.That(first, Is.EqualTo(0), firstOutput);
        Assert.That(firstOutput, Does.Contain("The release is not signed"));

        var baseline = Path.Combine(project.Directory, "production-baseline.json");
        var (exported, exportOutput) = await ProcessRunner.RunAsync(
            "dotnet",
            [Path.Combine(project.PublishDirectory, "migrate.dll"), "baseline", "--connection-variable", "SHOP_PRODUCTION", "--out", baseline, "--engine", "PostgreSql"],
            project.Directory,
            new Dictionary<string, string?> { ["SHOP_PRODUCTION"] = production });
        Assert.That(exported, Is.EqualTo(0), exportOutput);
        Assert.That(exportOutput, Does.Contain("7 applied migration(s) up to R__customer_stats.sql"));

        project.Write("Migrations/V6__product_stock.sql", "ALTER TABLE product ADD COLUMN stock integer NOT NULL DEFAULT 0;\n");
        // Staging is a copy of production here: its rehearsal of V6 is the one the release carries.
        var (second, secondOutput) = await project.PublishAsync(
            new Dictionary<string, string?> { ["MIGRATIONTASKS_STAGING_CONNECTION"] = production }, $"-p:MigrationBaseline={baseline}");

        Assert.That(second, Is.EqualTo(0), secondOutput);
        Assert.That(secondOutput, Does.Not.Contain("MIG5003"));
        Assert.That(secondOutput, Does.Contain("1 migration(s) to apply (V6__product_stock.sql)"));
        var release = Path.Combine(project.PublishDirectory, "release");
        Assert.That(Directory.EnumerateFiles(Path.Combine(release, "migrations")).Select(Path.GetFileName), Is.EqualTo(new[] { "V6__product_stock.sql" }));
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(release, "manifest.json"))))
        {
            var before = manifest.RootElement.GetProperty("expectedPreState");
            Assert.That(before.GetProperty("emptyDatabase").GetBoolean(), Is.False);
            Assert.That(before.GetProperty("history").GetArrayLength(), Is.EqualTo(7));
            Assert.That(manifest.RootElement.GetProperty("rehearsalDuration").ValueKind, Is.EqualTo(JsonValueKind.String));
        }

        var runner = Path.Combine(project.PublishDirectory, "migrate.dll");
        var (unsigned, unsignedOutput) = await ProcessRunner.RunAsync("dotnet", [runner, "verify"], project.Directory);
        Assert.That(unsigned, Is.EqualTo(2), unsignedOutput);
        Assert.That(unsignedOutput, Does.Contain("error MIG5009: the release is not signed"));
        var (allowed, allowedOutput) = await ProcessRunner.RunAsync("dotnet", [runner, "verify", "--allow-unsigned"], project.Directory);
        Assert.That(allowed, Is.EqualTo(0), allowedOutput);
        Assert.That(allowedOutput, Does.Contain("warning MIG5010").And.Contain("signer not checked (--allow-unsigned)"));
        var history = await PostgresServer.QueryAsync(production, "SELECT count(*) FROM migrationtasks.history WHERE version = '6'");
        Assert.That(history[0][0], Is.EqualTo("0"), "neither publish nor baseline changes production");
    }

    internal static X509Certificate2 CreateSigningCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=PgShop Releases", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    internal static string CopyFolder(string source, string target)
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
