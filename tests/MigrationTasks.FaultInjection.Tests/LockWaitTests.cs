using Npgsql;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// "An ALTER waiting for a lock blocks the application": behind a long reader, the runner's ALTER gives up after a
/// short lock timeout (so the application's queries do not queue behind it), rolls back, and tries again with a
/// pause; each wait is reported. When the table never frees up, the deploy fails back to the pre-state (MIG6027).
/// </summary>
[TestFixture]
public sealed class LockWaitTests
{
    [Test]
    public async Task An_alter_behind_a_long_reader_waits_in_short_tries_and_deploys_once_the_reader_is_done()
    {
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V3Tier]));
        await using var reader = await production.OpenSessionAsync("report job");
        var transaction = await reader.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM customer", reader, transaction))
        {
            await read.ExecuteScalarAsync();
        }

        using var runner = deploy.Start("--lock-wait", "0.3", "--lock-retries", "20");
        await runner.WaitForOutputAsync("gave up waiting for a lock");
        // While the runner is between tries, the application reads and writes the table without waiting for it.
        await production.ExecuteAsync("UPDATE customer SET email = email WHERE id = 1");
        await transaction.RollbackAsync();

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(deploy.LastReport().Json, Does.Contain("\"lockWaits\"").And.Contain("gave up waiting for a lock after 0.3 s"));
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V3Tier])));
    }

    [Test]
    public async Task An_alter_whose_table_never_frees_up_gives_up_after_its_tries_at_the_pre_state()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, Faults.V3Tier]));
        await using var reader = await production.OpenSessionAsync("report job");
        await using var transaction = await reader.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM customer", reader, transaction))
        {
            await read.ExecuteScalarAsync();
        }

        var (exit, output) = await deploy.RunAsync("--lock-wait", "0.2", "--lock-retries", "2");

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("error MIG6027").And.Contain("waited for a table lock 3 time(s)"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }
}
