using Npgsql;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// "Nothing runs that the signature does not cover", and "files are read again after they were verified": every
/// kind of file of the package tampered with is refused (exit 2) with the database untouched and no backup taken;
/// a file swapped while the deploy waits for the lock is not what runs.
/// </summary>
[TestFixture]
public sealed class TamperingTests
{
    private const long DeployLockKey = 5569060832829261105;

    private static readonly ReleaseWorkshop.Script FailingVerify = new("names_unmarked.sql", "SELECT id FROM customer WHERE name LIKE '%+';");

    [TestCase("release/migrations/V2__mark_names.sql", "MIG5014")]
    [TestCase("release/checks/slow_check.sql", "MIG5014")]
    [TestCase("release/verify/names_marked.sql", "MIG5014")]
    [TestCase("release/baseline.json", "MIG5014")]
    [TestCase("release/plan.md", "MIG5014")]
    [TestCase("release/manifest.json", "MIG5011")]
    [TestCase("release/manifest.json.sig", "MIG5011")]
    [TestCase("release/manifest.json.sig#flip", "MIG5011")]
    [TestCase("migrate.dll", "MIG5014")]
    [TestCase("Npgsql.dll", "MIG5014")]
    [TestCase("migrate.runtimeconfig.json", "MIG5014")]
    [TestCase("migrate.deps.json", "MIG5014")]
    public async Task A_package_with_a_changed_file_is_refused_untouched(string file, string code)
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], checks: [Faults.GatedCheck], verify: [Faults.PassingVerify]));
        var path = Path.Combine(deploy.Package, file.Split('#')[0]);
        if (file.EndsWith("#flip", StringComparison.Ordinal))
        {
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[^10] ^= 0x01; // inside the signature value, at the end of the signer's information
            await File.WriteAllBytesAsync(path, bytes);
        }
        else if (file.EndsWith(".json", StringComparison.Ordinal) && !file.EndsWith("manifest.json", StringComparison.Ordinal))
        {
            // A runtimeconfig startup hook, a deps entry: the change an attacker makes to take over the runner.
            var text = await File.ReadAllTextAsync(path);
            await File.WriteAllTextAsync(path, text.Insert(text.IndexOf('{') + 1, "\"configProperties\": {\"STARTUP_HOOKS\": \"/tmp/hook.dll\"},"));
        }
        else
        {
            await File.AppendAllTextAsync(path, " ");
        }

        var (exit, output) = await deploy.RunAsync("--lock-timeout", "5");

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain(code));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
        Assert.That(Directory.Exists(deploy.BackupDirectory), Is.False, "refused before the backup");
    }

    [TestCase("release/migrations/V9__extra.sql")]
    [TestCase("extra.dll")]
    [TestCase("migrate.runtimeconfig.dev.json")]
    [TestCase("runtimes/linux-x64/native/libgssapi_krb5.so.2")]
    public async Task A_package_with_an_added_file_the_runner_could_run_or_load_is_refused_untouched(string file)
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2]));
        var path = Path.Combine(deploy.Package, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "DROP TABLE customer;");

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("MIG5016"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task A_verification_file_swapped_while_the_deploy_waits_for_the_lock_is_not_what_runs()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], verify: [FailingVerify]));
        await using var holder = await production.OpenSessionAsync("another deploy");
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({DeployLockKey})", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        using var runner = deploy.Start();
        await production.WaitUntilAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks deploy lock%'",
            "the deploy to wait for the lock", runner);
        // Verified already; now the signed (failing) verification is swapped for one that always passes.
        await File.WriteAllTextAsync(Path.Combine(deploy.ReleaseDirectory, "verify", FailingVerify.Name), "SELECT 1 WHERE false;");
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({DeployLockKey})", holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("error MIG6014"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }
}
