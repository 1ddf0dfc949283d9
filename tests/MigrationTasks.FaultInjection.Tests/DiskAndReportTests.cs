namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// Full and read-only disks, and what the runner writes: no backup means no deploy (exit 2, untouched); a report
/// that cannot be written never changes the exit code and never leaves half a report; concurrent runs sharing a
/// report folder each keep their own report.
/// </summary>
[TestFixture]
public sealed class DiskAndReportTests
{
    [Test]
    public async Task A_backup_disk_that_fills_up_refuses_the_deploy_untouched_and_leaves_no_partial_dump()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        using var disk = SmallFileSystem.Mount(256);
        disk.FillLeaving(8);
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2])) { BackupDirectory = Path.Combine(disk.Path, "backups") };

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("MIG6005").Or.Contain("MIG6001"));
        Assert.That(Directory.Exists(deploy.BackupDirectory) ? Directory.EnumerateFiles(deploy.BackupDirectory) : [], Is.Empty);
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task A_read_only_backup_disk_refuses_the_deploy_untouched()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        using var disk = SmallFileSystem.Mount(256, readOnly: true);
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2])) { BackupDirectory = disk.Path };

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG6001"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task A_report_disk_that_fills_up_during_the_deploy_changes_no_exit_code_and_leaves_no_half_report()
    {
        var production = await Production.CreateAsync();
        using var disk = SmallFileSystem.Mount(128);
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2], checks: [Faults.GatedCheck]))
        {
            ReportDirectory = Path.Combine(disk.Path, "report"),
        };
        var gate = await Faults.CloseGateAsync(production);
        using var runner = deploy.Start();
        await Faults.WaitAtGateAsync(production, runner);
        // The folder was writable when the deploy began; now the disk is full.
        disk.FillLeaving(0);
        await gate.DisposeAsync();

        var (exit, output) = await runner.WaitForExitAsync();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("error MIG6022").And.Contain("this output is the only record of the run (exit code 0"));
        Assert.That(Directory.EnumerateFiles(deploy.ReportDirectory, "*", SearchOption.AllDirectories), Is.Empty, "no truncated report.json, no stray temporary file");
        Assert.That(await production.StateAsync(), Is.EqualTo(await Faults.PostStateAsync([Faults.V2])));
    }

    [Test]
    public async Task Runs_sharing_a_report_folder_each_keep_their_own_report_beside_the_latest()
    {
        var production = await Production.CreateAsync();
        var package = await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2]);
        var shared = Path.Combine(package, "..", Path.GetFileName(package) + "-shared-report");
        var first = new Deploy(production, package) { ReportDirectory = shared };
        var second = new Deploy(production, package) { ReportDirectory = shared };

        var results = await Task.WhenAll(first.RunAsync(), second.RunAsync());

        Assert.That(results.Select(r => r.ExitCode), Is.All.EqualTo(0), string.Join("\n---\n", results.Select(r => r.Output)));
        var runs = Directory.GetDirectories(shared);
        Assert.That(runs, Has.Length.EqualTo(2));
        var outcomes = runs.Select(run => File.ReadAllText(Path.Combine(run, "report.json"))).ToList();
        Assert.That(outcomes.Count(o => o.Contains("\"outcome\": \"deployed and verified", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(outcomes.Count(o => o.Contains("already deployed and verified", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(File.ReadAllText(Path.Combine(shared, "report.json")), Is.AnyOf(outcomes[0], outcomes[1]), "the latest is one of the two, whole");
    }
}
