using MigrationTasks.Diagnostics;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Tests.Suites;
using MigrationTasks.Production;
using MigrationTasks.Release;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.PostgreSql.Tests.Production;

/// <summary>
/// The runner when things go wrong in the middle: cancellation, a killed connection, a script that leaves its own
/// transaction aborted, a batch committed by a failing non-transactional script, an unwritable report folder, a
/// changed dump. Each must end in an exit code that tells the truth about the database. The recoveries every engine
/// shares (resuming a half-applied migration, restoring after a failure) are in the shared RecoverySuite.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ProductionRecoveryTests
{
    private const string Shop = """
        CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text);
        INSERT INTO customer VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bob', NULL), (3, 'Cy', 'cy@example.com');
        """;

    [Test]
    public async Task Cancelling_mid_deploy_restores_the_backup_and_still_reports()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        var release = production.Release("shop", "1.0.0",
            migrations: [production.Write("V1__customer.sql", Shop), production.Write("V2__slow.sql", "SELECT pg_sleep(30);")]);
        using var cancel = new CancellationTokenSource();
        var output = new StringWriter();
        var reportDir = Path.Combine(Path.GetTempPath(), "probe-report-" + Guid.NewGuid().ToString("N"));
        var variable = "PROBE_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, production.ConnectionString);
        var options = new DeployOptions(variable, Path.Combine(reportDir, "b"), reportDir, TimeSpan.FromSeconds(30));
        var deploy = new ProductionRunner(new PostgresEngine(), new Reporter(output)).DeployAsync(() => release, options, cancel.Token);
        for (var i = 0; i < 200; i++)
        {
            var rows = await production.QueryAsync("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()");
            if (rows[0][0] != "0") break;
            await Task.Delay(100);
        }
        await cancel.CancelAsync();
        Exception? thrown = null;
        DeployReport? report = null;
        try { report = await deploy; } catch (Exception e) { thrown = e; }
        var customer = await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'customer'");
        TestContext.Out.WriteLine($"thrown={thrown?.GetType().Name}; report={(report?.Exit.ToString() ?? "none")}; reportFile={File.Exists(Path.Combine(reportDir, "report.json"))}; customerTable={customer[0][0]}");
        TestContext.Out.WriteLine(output.ToString());
        Assert.That(thrown, Is.Null, "the runner turns a cancellation into an exit code and a report");
        Assert.That(report!.Exit, Is.EqualTo(RunnerExitCode.Failed));
        Assert.That(customer[0][0], Is.EqualTo("0"), "V1 committed before the cancel; the restore took it back");
        Assert.That(File.Exists(Path.Combine(reportDir, "report.json")), Is.True);
    }

    [Test]
    public async Task A_failed_non_transactional_migration_is_restored_even_at_its_first_statement()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var release = production.Release("shop", "1.1.0", baseline, migrations:
        [
            production.Write("next/V2__backfill.sql", "-- migrationtasks: no-transaction\nDO $$ BEGIN UPDATE customer SET name = 'BATCH1' WHERE id = 1; COMMIT; PERFORM 1/0; END $$;"),
        ]);
        var (report, output) = await production.DeployAsync(release);
        var name = await production.QueryAsync("SELECT name FROM customer WHERE id = 1");
        TestContext.Out.WriteLine($"exit={report.Exit}; outcome={report.Outcome}; name={name[0][0]}");
        TestContext.Out.WriteLine(output);
        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(name[0][0], Is.EqualTo("Ada"), "the batch the DO block committed before failing is undone by the restore");
    }

    [Test]
    public async Task A_connection_killed_mid_deploy_is_recovered_on_a_new_one()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var release = production.Release("shop", "1.1.0", baseline, migrations:
        [
            production.Write("next/V2__x.sql", "CREATE TABLE x (a int);"),
            production.Write("next/V3__die.sql", "SELECT pg_terminate_backend(pg_backend_pid());"),
        ]);
        var (report, output) = await production.DeployAsync(release);
        var x = await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'x'");
        TestContext.Out.WriteLine($"exit={report.Exit}; outcome={report.Outcome}; x exists={x[0][0]}");
        TestContext.Out.WriteLine(output);
        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(x[0][0], Is.EqualTo("0"));
    }

    [Test]
    public async Task An_unwritable_report_folder_refuses_before_anything_runs()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        var file = production.Write("a-file.txt", "x");
        var release = production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]);
        var variable = "PROBE_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, production.ConnectionString);
        var options = new DeployOptions(variable, Path.Combine(Path.GetTempPath(), "probe-b-" + Guid.NewGuid().ToString("N")), Path.Combine(file, "report"), TimeSpan.FromSeconds(30));
        Exception? thrown = null;
        DeployReport? report = null;
        try { report = await new ProductionRunner(new PostgresEngine(), new Reporter(new StringWriter())).DeployAsync(() => release, options, CancellationToken.None); }
        catch (Exception e) { thrown = e; }
        var customer = await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'customer'");
        TestContext.Out.WriteLine($"thrown={thrown?.GetType().Name}: {thrown?.Message}; customerTable={customer[0][0]}");
        Assert.That(thrown, Is.Null);
        Assert.That(customer[0][0], Is.EqualTo("0"));
        Assert.That(report!.Exit, Is.EqualTo(RunnerExitCode.Refused));
    }

    [Test]
    public async Task Restoring_a_changed_dump_is_refused_untouched()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var (deployed, _) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__x.sql", "CREATE TABLE x (a int);")]));
        var dump = deployed.Backup!.Path;
        var bytes = File.ReadAllBytes(dump);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(dump, bytes);
        var variable = "PROBE_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, production.ConnectionString);
        var output = new StringWriter();
        var report = await new ProductionRunner(new PostgresEngine(), new Reporter(output)).RestoreAsync(
            variable, Path.GetDirectoryName(dump)!, deployed.Backup.Id, Path.Combine(Path.GetTempPath(), "probe-r-" + Guid.NewGuid().ToString("N")), TimeSpan.FromSeconds(10), false, CancellationToken.None);
        TestContext.Out.WriteLine($"exit={report.Exit}; outcome={report.Outcome}");
        TestContext.Out.WriteLine(output.ToString());
        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Refused));
    }

    [Test]
    public async Task A_connection_lost_while_verifying_rolls_the_deploy_back()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        var release = production.Release("shop", "1.0.0",
            migrations: [production.Write("V1__customer.sql", Shop)],
            verify: [production.Write("verify/die.sql", "SELECT pg_terminate_backend(pg_backend_pid());")]);
        Exception? thrown = null;
        DeployReport? report = null;
        string output = "";
        try { (report, output) = await production.DeployAsync(release); } catch (Exception e) { thrown = e; }
        TestContext.Out.WriteLine($"thrown={thrown?.GetType().Name}: {thrown?.Message}; exit={report?.Exit}; {report?.Outcome}\n{output}");
        Assert.That(thrown, Is.Null);
        Assert.That(report!.Exit, Is.EqualTo(RunnerExitCode.Failed), output);
        Assert.That(await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'customer'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task A_script_left_in_an_aborted_transaction_holding_locks_is_still_restored()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var release = production.Release("shop", "1.1.0", baseline, migrations:
        [
            production.Write("next/V2__x.sql", "CREATE TABLE x (a int);"),
            production.Write("next/V3__own_tx.sql", "-- migrationtasks: no-transaction\nBEGIN;\nLOCK TABLE customer;\nUPDATE customer SET name = (1/0)::text;\nCOMMIT;"),
        ]);
        var (report, output) = await production.DeployAsync(release);
        TestContext.Out.WriteLine($"exit={report.Exit}; outcome={report.Outcome}\n{output}");
        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Failed));
    }
}
