using Npgsql;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// "A lost lock lets two deploys apply the same migrations": a connection reaper ends the idle session that holds
/// the deploy lock while deploy A runs; deploy B takes the lock. A double apply must be impossible in the database
/// itself, and a runner that lost its lock stops (exit 3) without restoring anything.
/// </summary>
[TestFixture]
public sealed class LostLockTests
{
    [Test]
    public async Task A_reaper_ending_the_lock_session_during_a_slow_check_stops_that_deploy_and_the_other_applies_once()
    {
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], checks: [Faults.GatedCheck]));
        var gate = await Faults.CloseGateAsync(production);
        using var a = deploy.Start();
        await Faults.WaitAtGateAsync(production, a);
        await EndLockSessionAsync(production);
        using var b = deploy.Start();
        await production.WaitUntilAsync(
            $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            "both deploys to wait at the gate", b, TimeSpan.FromSeconds(60));
        await WaitForWaitersAsync(production, 2, b);
        await gate.DisposeAsync();

        var (aExit, aOutput) = await a.WaitForExitAsync();
        var (bExit, bOutput) = await b.WaitForExitAsync();

        Assert.That(aExit, Is.EqualTo(3), aOutput);
        Assert.That(aOutput, Does.Contain("error MIG7007").And.Contain("committed nothing"));
        Assert.That(bExit, Is.EqualTo(0), bOutput);
        Assert.That(await production.ScalarAsync("SELECT count(*) FROM customer WHERE name LIKE '%++'"), Is.EqualTo("0"));
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V2])));
    }

    [Test]
    public async Task A_deploy_that_lost_its_lock_in_the_middle_of_a_migration_is_stopped_by_the_next_and_the_release_applies_once()
    {
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.GatedV2]));
        var gate = await Faults.CloseGateAsync(production);
        using var a = deploy.Start();
        // A has claimed V2 in its transaction and waits inside it; then the reaper takes its lock away.
        await Faults.WaitAtGateAsync(production, a);
        await EndLockSessionAsync(production);
        // B takes the lock, ends A's session (a runner without the lock must not go on), and reaches the gate itself.
        using var b = deploy.Start();
        await production.WaitUntilAsync(
            $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks migrate%' AND wait_event_type = 'Lock'",
            "B to wait at the gate", b);
        await gate.DisposeAsync();

        var (aExit, aOutput) = await a.WaitForExitAsync();
        var (bExit, bOutput) = await b.WaitForExitAsync();

        Assert.That(aExit, Is.EqualTo(3), aOutput);
        Assert.That(aOutput, Does.Contain("error MIG7007"));
        Assert.That(bExit, Is.EqualTo(0), bOutput);
        Assert.That(await production.ScalarAsync("SELECT count(*) FROM customer WHERE name LIKE '%++'"), Is.EqualTo("0"));
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.GatedV2])));
    }

    [Test]
    public async Task Eight_deploys_started_at_once_apply_the_release_once_and_all_succeed()
    {
        var production = await Production.CreateAsync();
        var package = await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, Faults.V3Tier], verify: [Faults.PassingVerify]);
        var runners = Enumerable.Range(0, 8).Select(i => new Deploy(production, package) { ReportDirectory = Path.Combine(package, "..", $"report-{i}") }.Start()).ToList();

        var results = await Task.WhenAll(runners.Select(r => r.WaitForExitAsync()));

        Assert.That(results.Select(r => r.ExitCode), Is.All.EqualTo(0), string.Join("\n---\n", results.Select(r => r.Output)));
        Assert.That(results.Count(r => r.Output.Contains("deployed and verified: 2 migration(s) in one transaction", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(results.Count(r => r.Output.Contains("already deployed and verified", StringComparison.Ordinal)), Is.EqualTo(7));
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V2, Faults.V3Tier], [Faults.PassingVerify])));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "verified" }));
        runners.ForEach(r => r.Dispose());
    }

    /// <summary>What a connection reaper does: ends the idle session holding the deploy lock.</summary>
    private static async Task EndLockSessionAsync(Production production)
    {
        Assert.That(
            await production.ScalarAsync($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks deploy lock%'"),
            Is.EqualTo("1"));
        await production.WaitUntilAsync(
            $"SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks deploy lock%'",
            "the lock session to end");
    }

    private static Task WaitForWaitersAsync(Production production, int count, RunnerProcess runner) =>
        production.WaitUntilAsync(
            $"SELECT CASE WHEN count(*) >= {count} THEN 1 ELSE 0 END FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            $"{count} sessions to wait at the gate", runner);
}
