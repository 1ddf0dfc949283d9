namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// What the server does to the runner's sessions: read-only targets, idle and statement timeouts set on the
/// database, a backend terminated at each step. Each ends with an exit code that tells the truth, and production at
/// exactly its pre-state or post-state.
/// </summary>
[TestFixture]
public sealed class SessionFaultTests
{
    [Test]
    public async Task A_database_whose_transactions_are_read_only_is_refused_before_the_backup_untouched()
    {
        var production = await Production.CreateAsync();
        await production.ExecuteAsync($"ALTER DATABASE {production.Name} SET default_transaction_read_only = on");
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2]));

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG6025").And.Contain("default_transaction_read_only"));
        Assert.That(Directory.Exists(deploy.BackupDirectory), Is.False, "no backup of a database that cannot change");
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task A_hot_standby_is_refused_before_the_backup_untouched()
    {
        // A primary of its own and a streaming replica of it (pg_basebackup -R), as a deploy pointed at the wrong
        // host would meet one: the replica accepts connections and reads, and refuses every change.
        if (MigrationTasks.PostgreSql.Ephemeral.PostgresBinaries.FindClientDirectory(["pg_basebackup"]) is not { } bin)
        {
            Assert.Ignore("pg_basebackup is not installed.");
            return;
        }

        var folder = Directory.CreateDirectory(ScratchFolder.PathFor($"standby-{Guid.NewGuid():N}")).FullName;
        await using var primary = await MigrationTasks.PostgreSql.Ephemeral.EphemeralPostgresCluster.CreateAsync(Path.Combine(folder, "primary"));
        await primary.CreateDatabaseAsync("prod_standby");
        var standbyData = Directory.CreateDirectory(Path.Combine(folder, "standby")).FullName;
        var pgBasebackup = Path.Combine(bin, "pg_basebackup");
        List<string> copyCommand = ["-h", "127.0.0.1", "-p", primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-D", standbyData, "-R", "-X", "stream", "--checkpoint=fast"];
        if (!OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess)
        {
            // The server refuses to run as root: its data, and the program writing it, belong to postgres.
            System.Diagnostics.Process.Start("chown", ["postgres:postgres", standbyData])!.WaitForExit();
            File.SetUnixFileMode(standbyData, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            copyCommand.InsertRange(0, ["-u", "postgres", "--", pgBasebackup]);
        }

        var start = new System.Diagnostics.ProcessStartInfo(Environment.IsPrivilegedProcess ? "runuser" : pgBasebackup)
        {
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        copyCommand.ForEach(start.ArgumentList.Add);
        using var copy = System.Diagnostics.Process.Start(start)!;
        var errors = await copy.StandardError.ReadToEndAsync();
        await copy.WaitForExitAsync();
        Assert.That(copy.ExitCode, Is.EqualTo(0), errors);
        await using var standby = await MigrationTasks.PostgreSql.Ephemeral.EphemeralPostgresCluster.StartAsync(standbyData);
        var production = await Production.CreateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2]));
        using var runner = RunnerProcess.Start(
            deploy.Runner,
            ["deploy", "--connection-variable", Deploy.ConnectionVariable, "--trust", ReleaseWorkshop.TrustPem, "--backup-dir", deploy.BackupDirectory, "--report-dir", deploy.ReportDirectory],
            new Dictionary<string, string> { [Deploy.ConnectionVariable] = standby.ConnectionString("prod_standby") });

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG6025").And.Contain("hot standby"));
        Assert.That(Directory.Exists(deploy.BackupDirectory), Is.False, "no backup of a database that cannot change");
    }

    [Test]
    public async Task Idle_timeouts_set_on_the_database_end_none_of_the_runners_waits()
    {
        var production = await Production.CreateAsync();
        await production.ExecuteAsync($"ALTER DATABASE {production.Name} SET idle_session_timeout = '400ms'; ALTER DATABASE {production.Name} SET idle_in_transaction_session_timeout = '400ms'");
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], checks: [Faults.GatedCheck], verify: [Faults.PassingVerify]));
        // The gate holds the deploy in its checks, with the lock session idle; a table lock holds pg_dump while the
        // backup's snapshot transaction waits idle; monitoring waits idle after the cutover.
        var gate = await Faults.CloseGateAsync(production);
        using var runner = deploy.Start("--monitor-seconds", "2");
        await Faults.WaitAtGateAsync(production, runner);
        await Task.Delay(1000);
        await using (var application = await production.OpenSessionAsync())
        {
            await using var transaction = await application.BeginTransactionAsync();
            await using (var hold = new Npgsql.NpgsqlCommand("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", application, transaction))
            {
                await hold.ExecuteNonQueryAsync();
            }

            await gate.DisposeAsync();
            await production.WaitUntilAsync(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks%' AND wait_event_type = 'Lock'",
                "the backup to wait for the table", runner);
            await Task.Delay(1000);
        }

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V2], [Faults.PassingVerify])));
    }

    [Test]
    public async Task A_failing_first_migration_under_idle_timeouts_is_rolled_back_without_a_restore()
    {
        var production = await Production.CreateAsync();
        await production.ExecuteAsync($"ALTER DATABASE {production.Name} SET idle_session_timeout = '300ms'");
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [new("V2__fails.sql", "UPDATE customer SET name = name || '+';\n" + Faults.FailOnProduction)]));

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Not.Contain("restoring backup"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [TestCase("check", 2)]
    [TestCase("migration", 1)]
    [TestCase("verification", 1)]
    public async Task A_backend_terminated_at_a_step_ends_with_the_truth_and_the_pre_state(string step, int expectedExit)
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(
            production.BaselinePath,
            [step == "migration" ? Faults.GatedV2 : Faults.V2],
            checks: step == "check" ? [Faults.GatedCheck] : null,
            verify: step == "verification" ? [Faults.GatedVerify] : null));
        var gate = await Faults.CloseGateAsync(production);
        using var runner = deploy.Start();
        await Faults.WaitAtGateAsync(production, runner);
        await production.ExecuteAsync($"""
            SELECT pg_terminate_backend(l.pid) FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.objid = 4242 AND NOT l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """);

        var (exit, output) = await runner.WaitForExitAsync();
        await gate.DisposeAsync();

        Assert.That(exit, Is.EqualTo(expectedExit), output);
        Assert.That(output, Does.Contain("57P01").Or.Contain("terminating connection"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task A_terminated_pg_dump_refuses_the_deploy_untouched_and_leaves_no_dump()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2]));
        RunnerProcess runner;
        await using (var application = await production.OpenSessionAsync())
        {
            await using var transaction = await application.BeginTransactionAsync();
            await using (var hold = new Npgsql.NpgsqlCommand("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", application, transaction))
            {
                await hold.ExecuteNonQueryAsync();
            }

            runner = deploy.Start();
            // The backup's own session reads the tables in the dump's snapshot, beside pg_dump: both wait for the table.
            const string backupSessions = "application_name LIKE 'MigrationTasks%' AND application_name NOT LIKE 'MigrationTasks deploy lock%' AND wait_event_type = 'Lock'";
            await production.WaitUntilAsync(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND {backupSessions}", "the backup to wait for the table", runner);
            await production.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{production.Name}' AND {backupSessions}");
        }

        using (runner)
        {
            var (exit, output) = await runner.WaitForExitAsync();

            Assert.That(exit, Is.EqualTo(2), output);
            Assert.That(output, Does.Contain("MIG6005").Or.Contain("MIG6021"));
            Assert.That(
                Directory.Exists(deploy.BackupDirectory) ? Directory.EnumerateFiles(deploy.BackupDirectory) : [],
                Is.Empty,
                "no dump, partial or whole, and no metadata is left");
            Assert.That(await production.StateAsync(), Is.EqualTo(before));
        }
    }

    [Test]
    public async Task A_terminated_restore_rolls_back_exits_3_and_a_rerun_finishes_it()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2, new("V3__fails.sql", Faults.FailOnProduction)]));
        RunnerProcess runner;
        await using (var application = await production.OpenSessionAsync())
        {
            await using var transaction = await application.BeginTransactionAsync();
            await using (var read = new Npgsql.NpgsqlCommand("SELECT count(*) FROM customer", application, transaction))
            {
                await read.ExecuteScalarAsync();
            }

            runner = deploy.Start("--transaction-per-migration", "--discard-later-writes");
            await production.WaitUntilAsync(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks restore%' AND wait_event_type = 'Lock'",
                "the restore to wait for the application's lock", runner);
            await production.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{production.Name}' AND application_name LIKE 'MigrationTasks restore%'");
        }

        using (runner)
        {
            var (exit, output) = await runner.WaitForExitAsync();
            Assert.That(exit, Is.EqualTo(3), output);
            Assert.That(output, Does.Contain("error MIG6019").And.Contain("failed and was rolled back"));
        }

        var (again, againOutput) = await deploy.RunAsync();

        Assert.That(again, Is.EqualTo(3), againOutput);
        Assert.That(againOutput, Does.Contain("needs a person"));
        var backup = Path.GetFileNameWithoutExtension(Directory.EnumerateFiles(deploy.BackupDirectory, "*.dump").Single());
        using var restore = deploy.StartVerb("restore", "--backup-dir", deploy.BackupDirectory, "--backup", backup, "--report-dir", deploy.ReportDirectory);
        var (restored, restoreOutput) = await restore.WaitForExitAsync();
        Assert.That(restored, Is.EqualTo(0), restoreOutput);
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
        Assert.That(await production.DeployStatesAsync(), Is.EqualTo(new[] { "restored" }));
    }
}
