namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// "A failed or interrupted deploy is later reported as done": kill -9 during Verify/, an exit 3 after a failed
/// restore, a kill during the restore; then a plain re-run. A release counts as deployed only once its verification
/// passed: the re-run verifies again, finishes the restore, or refuses with what is known.
/// </summary>
[TestFixture]
public sealed class InterruptedDeployTests
{
    [Test]
    public async Task Killed_during_Verify_the_one_transaction_release_leaves_the_pre_state_and_a_rerun_deploys_and_verifies_it()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, Faults.V3Tier], verify: [Faults.GatedVerify]));

        Assert.That(await Faults.KillAtGateAsync(production, deploy), Is.Not.EqualTo(0));

        // The runner's backend outlives it until its statement ends (the gate opens), and can never commit.
        Assert.That(await production.StateAsync(), Is.EqualTo(before), "nothing of the uncommitted release is visible");

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("verification passed").And.Not.Contain("already deployed"));
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V2, Faults.V3Tier], [Faults.GatedVerify])));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "failed", "verified" }), "the killed attempt is closed as failed, the re-run's is verified");
    }

    [Test]
    public async Task Killed_during_Verify_after_its_migrations_committed_a_rerun_verifies_again_before_it_says_deployed()
    {
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, Faults.V3Tier], verify: [Faults.GatedVerify]));

        await Faults.KillAtGateAsync(production, deploy, "--transaction-per-migration");

        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "migrated" }));
        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("verifying again").And.Contain("verification passed").And.Not.Contain("already deployed"));
        Assert.That(deploy.LastReport().Outcome, Is.EqualTo("verified on a re-run"));
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V2, Faults.V3Tier], [Faults.GatedVerify])));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "verified" }));

        var (again, againOutput) = await deploy.RunAsync();
        Assert.That(again, Is.EqualTo(0), againOutput);
        Assert.That(againOutput, Does.Contain("already deployed and verified"));
    }

    [Test]
    public async Task After_a_restore_that_failed_with_exit_3_a_rerun_refuses_with_what_is_known_until_a_person_resolves_it()
    {
        var production = await Production.CreateAsync();
        var gatedFailure = new ReleaseWorkshop.Script("V3__fails.sql", Faults.Gate + "\n" + Faults.FailOnProduction);
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, gatedFailure]));
        var gate = await Faults.CloseGateAsync(production);
        using var runner = deploy.Start("--transaction-per-migration");
        await Faults.WaitAtGateAsync(production, runner);
        // V2 is committed; the backup is damaged while V3 runs, so the restore that follows its failure must refuse it.
        var dump = Directory.EnumerateFiles(deploy.BackupDirectory, "*.dump").Single();
        var bytes = await File.ReadAllBytesAsync(dump);
        bytes[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(dump, bytes);
        await gate.DisposeAsync();

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(3), output);
        Assert.That(output, Does.Contain("error MIG6019").And.Contain("changed since it was taken"));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "needs_person" }));
        var afterFailure = await production.StateAsync();

        var (again, againOutput) = await deploy.RunAsync();

        Assert.That(again, Is.EqualTo(3), againOutput);
        Assert.That(againOutput, Does.Contain("error MIG6026").And.Contain("needs a person").And.Not.Contain("already deployed").And.Not.Contain("deployed and verified"));
        Assert.That(await production.StateAsync(), Is.EqualTo(afterFailure), "the refusing re-run touched nothing");

        using var resolve = deploy.StartVerb("resolve", "--engine", "PostgreSql", "--reason", "V2 undone by hand from last night's snapshot");
        var (resolved, resolveOutput) = await resolve.WaitForExitAsync();
        Assert.That(resolved, Is.EqualTo(0), resolveOutput);
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "resolved" }));
        Assert.That(await production.ScalarAsync("SELECT detail FROM migrationtasks.deploys"), Does.Contain("V2 undone by hand"));
    }

    [Test]
    public async Task Killed_during_the_restore_a_rerun_finishes_the_restore_and_exits_1_at_the_pre_state()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, new("V3__fails.sql", Faults.FailOnProduction)]));
        // A superuser's transaction the runner's login may not end keeps the restore waiting for its lock.
        await using (var application = await production.OpenSessionAsync())
        {
            await using var transaction = await application.BeginTransactionAsync();
            await using (var read = new Npgsql.NpgsqlCommand("SELECT count(*) FROM customer", application, transaction))
            {
                await read.ExecuteScalarAsync();
            }

            using var runner = deploy.Start("--transaction-per-migration");
            await production.WaitUntilAsync(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks restore%' AND wait_event_type = 'Lock'",
                "the restore to wait for the application's lock",
                runner);
            runner.Kill();
            await runner.WaitForExitAsync();
        }

        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "restoring" }));
        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("was restoring its backup").And.Contain("restored and proven"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "restored" }));
    }

    [Test]
    public async Task Sigterm_during_the_restore_lets_the_restore_finish_and_the_report_be_written()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, new("V3__fails.sql", Faults.FailOnProduction)]));
        using var runner = deploy.Start("--transaction-per-migration");
        await using (var application = await production.OpenSessionAsync())
        {
            await using var transaction = await application.BeginTransactionAsync();
            await using (var read = new Npgsql.NpgsqlCommand("SELECT count(*) FROM customer", application, transaction))
            {
                await read.ExecuteScalarAsync();
            }

            await production.WaitUntilAsync(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks restore%' AND wait_event_type = 'Lock'",
                "the restore to wait for the application's lock",
                runner);
            runner.Terminate();
            await Task.Delay(300);
        }

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
        Assert.That(deploy.LastReport().Outcome, Does.Contain("restored and proven"));
    }
}
