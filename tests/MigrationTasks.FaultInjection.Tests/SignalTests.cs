namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// "SIGTERM (how CI, systemd and Kubernetes cancel a job) kills the runner with no restore and no report", and kill -9
/// at each step: a SIGTERM stops the runner at a safe point, puts production back, and writes the report; a kill -9
/// leaves what a later run finishes.
/// </summary>
[TestFixture]
public sealed class SignalTests
{
    [TestCase("check", 2)]
    [TestCase("migration", 1)]
    [TestCase("verification", 1)]
    [TestCase("migration outside a transaction", 1)]
    public async Task Sigterm_at_a_step_stops_the_deploy_at_the_pre_state_with_a_report(string step, int expectedExit)
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(
            production.BaselinePath,
            step switch
            {
                "migration" => [Faults.GatedV2],
                "migration outside a transaction" => [Faults.V2, Faults.GatedNoTransactionV3],
                _ => [Faults.V2],
            },
            checks: step == "check" ? [Faults.GatedCheck] : null,
            verify: step == "verification" ? [Faults.GatedVerify] : null));
        var gate = await Faults.CloseGateAsync(production);
        using var runner = deploy.Start();
        await Faults.WaitAtGateAsync(production, runner);

        runner.Terminate();
        var (exit, output) = await runner.WaitForExitAsync();
        await gate.DisposeAsync();

        Assert.That(exit, Is.EqualTo(expectedExit), output);
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
        var report = deploy.LastReport();
        Assert.That(report.Exit, Is.EqualTo(expectedExit == 1 ? "failed" : "refused"));
        Assert.That(report.Json, Does.Contain("cancelled"));
    }

    [Test]
    public async Task Sigterm_during_the_backup_refuses_untouched_and_leaves_no_dump_and_no_pg_dump()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], checks: [Faults.GatedCheck]));
        using var runner = deploy.Start();
        await using (var application = await HoldOrdersDuringTheBackupAsync(production, runner))
        {
            runner.Terminate();
            await runner.WaitForOutputAsync("Report: ");
        }

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(2), output);
        await WaitForNoPgDumpAsync(production);
        Assert.That(Directory.EnumerateFiles(deploy.BackupDirectory), Is.Empty, "the partial dump is deleted");
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task Killed_during_the_backup_no_pg_dump_survives_no_file_is_readable_by_others_and_a_rerun_deploys()
    {
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], checks: [Faults.GatedCheck]));
        using (var runner = deploy.Start())
        {
            await using var application = await HoldOrdersDuringTheBackupAsync(production, runner);
            runner.Kill();
            await runner.WaitForExitAsync();
        }

        // Let go, pg_dump writes into the broken pipe at once, and dies of it.
        await WaitForNoPgDumpAsync(production);
        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in Directory.EnumerateFiles(deploy.BackupDirectory))
            {
                Assert.That(File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead), Is.EqualTo(UnixFileMode.None), file);
            }
        }

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V2])));
    }

    /// <summary>
    /// Holds the runner in its backup: it waits at the gate of its check (after the pre-state was read), the
    /// application locks orders, the gate opens, and pg_dump waits for the table. Disposing the session lets go.
    /// </summary>
    private static async Task<Npgsql.NpgsqlConnection> HoldOrdersDuringTheBackupAsync(Production production, RunnerProcess runner)
    {
        var gate = await Faults.CloseGateAsync(production);
        await Faults.WaitAtGateAsync(production, runner);
        var application = await production.OpenSessionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", application))
        {
            await hold.ExecuteNonQueryAsync();
        }

        await gate.DisposeAsync();
        await production.WaitUntilAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks pg_dump%' AND wait_event_type = 'Lock'",
            "pg_dump to wait for the table", runner);
        return application;
    }

    private static Task WaitForNoPgDumpAsync(Production production) =>
        production.WaitUntilAsync(
            $"SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks pg_dump%'",
            "pg_dump to end");

    [Test]
    public async Task Killed_in_a_transactional_migration_a_rerun_deploys_the_release_once()
    {
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.GatedV2, Faults.V3Tier]));
        await Faults.KillAtGateAsync(production, deploy);

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.GatedV2, Faults.V3Tier])));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "failed", "verified" }));
    }

    [Test]
    public async Task Killed_in_a_migration_outside_a_transaction_a_rerun_restores_the_backup_as_the_killed_run_would_have()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, Faults.GatedNoTransactionV3]));
        await Faults.KillAtGateAsync(production, deploy);

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("stopped after committing").And.Contain("restored and proven"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "restored" }));
    }
}
