namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// "Restores discard other sessions' writes silently": when the application kept writing after the backup, a
/// restore would drop those writes. The runner detects them and stops for a person (exit 3) unless told to discard
/// them; when nobody else wrote, it restores (exit 1).
/// </summary>
[TestFixture]
public sealed class WritesSinceBackupTests
{
    /// <summary>Outside a transaction: an index built concurrently, the gate, then a statement that fails on production.</summary>
    private static readonly ReleaseWorkshop.Script FailingOutsideTransaction = new("V3__index.sql",
        "-- migrationtasks: no-transaction\nCREATE INDEX CONCURRENTLY customer_email ON customer (email);\n" + Faults.Gate + "\n" + Faults.FailOnProduction);

    [Test]
    public async Task A_failed_deploy_is_not_restored_over_what_the_application_wrote_meanwhile_and_the_report_lists_it()
    {
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, FailingOutsideTransaction]));
        var gate = await Faults.CloseGateAsync(production);
        using var runner = deploy.Start();
        await Faults.WaitAtGateAsync(production, runner);
        await production.ExecuteAsync("INSERT INTO customer (id, name) VALUES (1001, 'signed up during the deploy'); UPDATE orders SET total = total + 1 WHERE id = 7");
        await gate.DisposeAsync();

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(3), output);
        Assert.That(output, Does.Contain("error MIG6024").And.Contain("public.customer: 1 inserted").And.Contain("public.orders: 0 inserted, 1 updated"));
        Assert.That(await production.ScalarAsync("SELECT name FROM customer WHERE id = 1001"), Is.EqualTo("signed up during the deploy"), "the application's row is kept");
        Assert.That(deploy.LastReport().Json, Does.Contain("\"writesSinceBackup\"").And.Contain("public.customer: 1 inserted"));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "needs_person" }));

        // A person decides to lose those writes: the restore verb, told so, puts the backup back.
        var backup = Path.GetFileNameWithoutExtension(Directory.EnumerateFiles(deploy.BackupDirectory, "*.dump").Single());
        using var restore = deploy.StartVerb("restore", "--backup-dir", deploy.BackupDirectory, "--backup", backup, "--report-dir", deploy.ReportDirectory, "--discard-later-writes");
        var (restored, restoreOutput) = await restore.WaitForExitAsync();
        Assert.That(restored, Is.EqualTo(0), restoreOutput);
        Assert.That(await production.ScalarAsync("SELECT count(*) FROM customer WHERE id = 1001"), Is.EqualTo("0"));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "restored" }));
    }

    [Test]
    public async Task Told_to_discard_later_writes_the_failed_deploy_restores_the_backup()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, FailingOutsideTransaction]));
        var gate = await Faults.CloseGateAsync(production);
        using var runner = deploy.Start("--discard-later-writes");
        await Faults.WaitAtGateAsync(production, runner);
        await production.ExecuteAsync("INSERT INTO customer (id, name) VALUES (1001, 'lost on purpose')");
        await gate.DisposeAsync();

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task When_nobody_else_wrote_the_failed_deploy_is_restored_to_the_pre_state()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, FailingOutsideTransaction]));

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("restored and proven"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "restored" }));
    }

    [Test]
    public async Task A_verification_failing_while_monitoring_after_the_cutover_never_discards_what_the_application_wrote_since()
    {
        var production = await Production.CreateAsync();
        var watch = new ReleaseWorkshop.Script("no_refunds.sql", "SELECT id FROM orders WHERE total < 0;");
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], verify: [watch]));
        using var runner = deploy.Start("--monitor-seconds", "3");
        await runner.WaitForOutputAsync("monitoring for 3 s");
        // After the cutover the application goes on: a sale, and a bad refund that the watch catches.
        await production.ExecuteAsync("INSERT INTO orders VALUES (9001, 1, 20.00); INSERT INTO orders VALUES (9002, 1, -5.00)");

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(3), output);
        Assert.That(output, Does.Contain("verification failed while monitoring").And.Contain("error MIG6024").And.Contain("public.orders: 2 inserted"));
        Assert.That(await production.ScalarAsync("SELECT count(*) FROM orders WHERE id IN (9001, 9002)"), Is.EqualTo("2"));
        Assert.That(await production.ScalarAsync("SELECT count(*) FROM customer WHERE name LIKE '%+'"), Is.EqualTo("500"), "the release stays as it was cut over");
    }
}
