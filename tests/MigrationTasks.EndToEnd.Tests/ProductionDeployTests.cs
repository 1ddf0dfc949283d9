using System.Security.Cryptography.X509Certificates;
using MigrationTasks.PostgreSql.Tests;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// The release package on a production database, run as CI runs it: `dotnet migrate.dll` from the publish folder
/// with only the .NET runtime. A tampered or untrusted package is refused (exit 2) and production stays untouched;
/// a good one deploys, verifies and reports; a re-run is a no-op; `restore` puts back the backup the deploy took.
/// </summary>
[TestFixture]
public sealed class ProductionDeployTests
{
    private const string SigningPassword = "Pr0duction-Signing-Pw";
    private const string DatabasePassword = "Pr0duction-Db-Pw";

    [Test]
    public async Task The_runner_refuses_tampered_packages_untouched_then_deploys_reruns_as_a_no_op_and_restores()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var keys = Path.Combine(Path.GetDirectoryName(project.Directory)!, "keys");
        Directory.CreateDirectory(keys);
        using var certificate = ReleasePackageTests.CreateSigningCertificate();
        var pfx = Path.Combine(keys, "signing.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, SigningPassword));
        var trust = Path.Combine(keys, "signing.pem");
        File.WriteAllText(trust, certificate.ExportCertificatePem());
        using var stranger = ReleasePackageTests.CreateSigningCertificate();
        var strangerPem = Path.Combine(keys, "stranger.pem");
        File.WriteAllText(strangerPem, stranger.ExportCertificatePem());

        var (published, publishOutput) = await project.PublishAsync(
            new Dictionary<string, string?> { ["MIGRATIONTASKS_SIGNING_PASSWORD"] = SigningPassword }, $"-p:MigrationSigningCertificate={pfx}");
        Assert.That(published, Is.EqualTo(0), publishOutput);

        // Production runs V1-V4 (the sample's committed baseline), deployed by the runner an earlier release used.
        var production = await PostgresServer.CreateDatabaseAsync() + $";Password={DatabasePassword}";
        var environment = new Dictionary<string, string?> { ["SHOP_PRODUCTION"] = production };
        var runner = Path.Combine(project.PublishDirectory, "migrate.dll");
        var today = new[] { "V1__create_catalog.sql", "V2__create_orders.sql", "V3__order_total_function.sql", "V4__seed_data.sql" }
            .SelectMany(name => new[] { "--migration", project.PathOf(Path.Combine("Migrations", name)) });
        var (seeded, seedOutput) = await ProcessRunner.RunAsync(
            "dotnet", [runner, "deploy-dev", "--engine", "PostgreSql", "--connection-variable", "SHOP_PRODUCTION", "--state-dir", Path.Combine(keys, "state"), .. today], keys, environment);
        Assert.That(seeded, Is.EqualTo(0), seedOutput);
        var before = await FingerprintAsync(production);

        // The runner a user already trusts (the one NuGet restored) checks a package without running the package's own.
        Assert.That(File.Exists(project.TrustedRunner), Is.True, project.TrustedRunner);
        string[] DeployWithItsOwnRunner(string copy) =>
            [Path.Combine(copy, "migrate.dll"), "deploy", "--connection-variable", "SHOP_PRODUCTION", "--backup-dir", Path.Combine(copy, "backups"), "--report-dir", Path.Combine(copy, "report")];
        string[] VerifyWithItsOwnRunner(string copy) => [Path.Combine(copy, "migrate.dll"), "verify"];
        string[] VerifyWithTheTrustedRunner(string copy) => [project.TrustedRunner, "verify", "--release-dir", Path.Combine(copy, "release")];
        var (trusted, trustedOutput) = await ProcessRunner.RunAsync("dotnet", [.. VerifyWithTheTrustedRunner(project.PublishDirectory), "--trust", trust], keys);
        Assert.That(trusted, Is.EqualTo(0), trustedOutput);
        Assert.That(trustedOutput, Does.Match(@"Release package verified: PgShop 1\.0\.0, \d+ file\(s\) in release/ and \d+ beside it \(the runner\) match manifest\.json"));

        var tamperings = new (string Name, Action<string> Tamper, Func<string, string[]> Command, string[] Options, string Expected)[]
        {
            ("one byte flipped", copy => FlipLastByte(Path.Combine(copy, "release", "migrations", "V5_1__order_summary_view.sql")), DeployWithItsOwnRunner, ["--trust", trust], "MIG5014"),
            ("a file added", copy => File.WriteAllText(Path.Combine(copy, "release", "migrations", "V5_2__extra.sql"), "DROP TABLE customer;"), DeployWithItsOwnRunner, ["--trust", trust], "V5_2__extra.sql"),
            ("a file removed", copy => File.Delete(Path.Combine(copy, "release", "verify", "customer_index_is_valid.sql")), DeployWithItsOwnRunner, ["--trust", trust], "customer_index_is_valid.sql"),
            ("an untrusted signer", _ => { }, DeployWithItsOwnRunner, ["--trust", strangerPem], "MIG50"),
            ("an entry escaping the folder", copy => AddManifestEntry(Path.Combine(copy, "release"), "../x"), DeployWithItsOwnRunner, ["--allow-unsigned"], "../x"),
            ("an absolute entry", copy => AddManifestEntry(Path.Combine(copy, "release"), "/etc/passwd"), DeployWithItsOwnRunner, ["--allow-unsigned"], "/etc/passwd"),
            // The runner itself: code that would run before any check of the runner's own.
            ("a byte appended to migrate.dll", copy => AppendByte(Path.Combine(copy, "migrate.dll")), VerifyWithTheTrustedRunner, ["--trust", trust],
                $"{Path.DirectorySeparatorChar}migrate.dll: error MIG5014: migrate.dll (beside release/) has SHA-256"),
            ("a startup hook in migrate.runtimeconfig.json", AddStartupHook, VerifyWithTheTrustedRunner, ["--trust", trust],
                $"{Path.DirectorySeparatorChar}migrate.runtimeconfig.json: error MIG5014: migrate.runtimeconfig.json (beside release/) has SHA-256"),
            // An appended byte does not keep the host from loading an assembly: the tampered runner starts and refuses itself.
            ("a byte appended to Npgsql.dll", copy => AppendByte(Path.Combine(copy, "Npgsql.dll")), VerifyWithItsOwnRunner, ["--trust", trust],
                $"{Path.DirectorySeparatorChar}Npgsql.dll: error MIG5014: Npgsql.dll (beside release/) has SHA-256"),
        };
        foreach (var (name, tamper, command, options, expected) in tamperings)
        {
            var copy = ReleasePackageTests.CopyFolder(project.PublishDirectory, Path.Combine(keys, "tampered-" + Guid.NewGuid().ToString("N")));
            tamper(copy);
            var (refused, refusedOutput) = await ProcessRunner.RunAsync("dotnet", [.. command(copy), .. options], keys, environment);

            Assert.That(refused, Is.EqualTo(2), $"{name}: {refusedOutput}");
            Assert.That(refusedOutput, Does.Contain(expected), name);
            Assert.That(await FingerprintAsync(production), Is.EqualTo(before), $"{name}: production untouched");
            Assert.That(Directory.Exists(Path.Combine(copy, "backups")), Is.False, $"{name}: refused before the backup");
        }

        var reportDirectory = Path.Combine(keys, "report");
        string[] deploy = [runner, "deploy", "--connection-variable", "SHOP_PRODUCTION", "--trust", trust, "--backup-dir", Path.Combine(keys, "backups"), "--report-dir", reportDirectory];
        var (deployed, deployOutput) = await ProcessRunner.RunAsync("dotnet", deploy, keys, environment);

        Assert.That(deployed, Is.EqualTo(0), deployOutput);
        var history = await PostgresServer.QueryAsync(production, "SELECT script, package_id FROM migrationtasks.history WHERE outcome = 'success' ORDER BY id");
        Assert.That(history.Select(r => $"{r[0]}|{r[1]}"), Is.EqualTo(new[]
        {
            "V1__create_catalog.sql|", "V2__create_orders.sql|", "V3__order_total_function.sql|", "V4__seed_data.sql|",
            "V5__index_orders_by_customer.sql|PgShop", "V5_1__order_summary_view.sql|PgShop", "R__customer_stats.sql|PgShop",
        }));
        var markdown = File.ReadAllText(Path.Combine(reportDirectory, "report.md"));
        Assert.That(markdown, Does.Contain("```mermaid").And.Contain("class V,W,X,J,K,L,O,P,S passed"));
        var backupId = System.Text.RegularExpressions.Regex.Match(markdown, @"--backup (\S+)`").Groups[1].Value;
        Assert.That(backupId, Is.Not.Empty, markdown);

        // Deployed again by the trusted runner with --release-dir: the package's own runner need never run.
        string[] deployAgain = [project.TrustedRunner, "deploy", "--release-dir", Path.Combine(project.PublishDirectory, "release"), .. deploy[2..^1], Path.Combine(keys, "report-again")];
        var (again, againOutput) = await ProcessRunner.RunAsync("dotnet", deployAgain, keys, environment);
        Assert.That(again, Is.EqualTo(0), againOutput);
        Assert.That(againOutput, Does.Contain("already deployed and verified; nothing to do"));
        Assert.That(await PostgresServer.QueryAsync(production, "SELECT count(*) FROM migrationtasks.history"), Has.One.Items.EqualTo(new[] { "7" }));

        // No --engine: the restore takes PostgreSql from the backup's metadata.
        var (restored, restoreOutput) = await ProcessRunner.RunAsync(
            "dotnet",
            [runner, "restore", "--connection-variable", "SHOP_PRODUCTION", "--backup-dir", Path.Combine(keys, "backups"), "--backup", backupId, "--report-dir", Path.Combine(keys, "report-restore")],
            keys,
            environment);
        Assert.That(restored, Is.EqualTo(0), restoreOutput);
        Assert.That(await FingerprintAsync(production), Is.EqualTo(before), "the backup holds production as it was before the deploy");

        var everything = publishOutput + seedOutput + deployOutput + againOutput + restoreOutput
                         + string.Concat(Directory.EnumerateFiles(keys, "report*.*", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.That(everything, Does.Not.Contain(DatabasePassword).And.Not.Contain(SigningPassword));
    }

    /// <summary>Production's tables, views, indexes and history rows, as one string: equal means untouched.</summary>
    private static async Task<string> FingerprintAsync(string connectionString)
    {
        var rows = await PostgresServer.QueryAsync(connectionString, """
            SELECT (SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace)
                || ' | ' || (SELECT string_agg(script || ':' || outcome, ',' ORDER BY id) FROM migrationtasks.history)
                || ' | ' || (SELECT count(*) FROM customer)::text
            """);
        return rows[0][0]!;
    }

    private static void FlipLastByte(string path)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[^2] ^= 0x20;
        File.WriteAllBytes(path, bytes);
    }

    private static void AppendByte(string path)
    {
        using var stream = new FileStream(path, FileMode.Append);
        stream.WriteByte(0);
    }

    /// <summary>What the issue saw: a hook assembly dropped beside the runner and named in its runtimeconfig.json.</summary>
    private static void AddStartupHook(string package)
    {
        var hook = Path.Combine(package, "Hook.dll");
        File.Copy(Path.Combine(package, "migrate.dll"), hook);
        var path = Path.Combine(package, "migrate.runtimeconfig.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        config["runtimeOptions"]!["configProperties"]!["STARTUP_HOOKS"] = hook;
        File.WriteAllText(path, config.ToJsonString());
    }

    /// <summary>Adds a hostile entry to the manifest; the signature is removed, as an attacker without the key would.</summary>
    private static void AddManifestEntry(string release, string path)
    {
        var manifest = Path.Combine(release, "manifest.json");
        var text = File.ReadAllText(manifest);
        var at = text.IndexOf("\"files\": [", StringComparison.Ordinal) + "\"files\": [".Length;
        File.WriteAllText(manifest, text.Insert(at, $"\n    {{ \"path\": \"{path}\", \"sha256\": \"{new string('0', 64)}\", \"role\": \"migration\" }},"));
        File.Delete(Path.Combine(release, "manifest.json.sig"));
    }
}
