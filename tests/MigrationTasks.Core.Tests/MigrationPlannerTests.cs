using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Scripts;

namespace MigrationTasks.Core.Tests;

public sealed class MigrationPlannerTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("migrationtasks-plan-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void Nothing_applied_means_everything_is_pending_in_order()
    {
        var migrations = Prepare(("V2__b.sql", "B"), ("V1__a.sql", "A"), ("R__r.sql", "R"));

        var plan = MigrationPlanner.Plan(migrations, []);

        Assert.That(plan.Pending.Select(s => s.File.ScriptName), Is.EqualTo(new[] { "V1__a.sql", "V2__b.sql", "R__r.sql" }));
    }

    [Test]
    public void An_applied_file_whose_bytes_changed_is_refused_and_nothing_is_planned()
    {
        var migrations = Prepare(("V1__a.sql", "A changed"), ("V2__b.sql", "B"));

        var error = Assert.Throws<DiagnosticException>(() => MigrationPlanner.Plan(migrations, [Applied("1", "V1__a.sql", "0000")]))!;

        Assert.That(error.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.AppliedMigrationChanged));
        Assert.That(error.Diagnostics.Single().File, Is.EqualTo(migrations[0].File.Path));
    }

    [Test]
    public void A_repeatable_runs_again_only_when_its_checksum_changes()
    {
        var migrations = Prepare(("R__r.sql", "R"));
        var same = Applied(null, "R__r.sql", migrations[0].File.Checksum);

        Assert.That(MigrationPlanner.Plan(migrations, [same]).Pending, Is.Empty);
        Assert.That(MigrationPlanner.Plan(migrations, [Applied(null, "R__r.sql", "old")]).Pending, Has.Count.EqualTo(1));
    }

    [Test]
    public void A_history_version_without_a_file_is_a_warning()
    {
        var migrations = Prepare(("V1__a.sql", "A"));

        var plan = MigrationPlanner.Plan(migrations, [Applied("1", "V1__a.sql", migrations[0].File.Checksum), Applied("0.5", "V0_5__gone.sql", "x")]);

        Assert.That(plan.Warnings.Single().Code, Is.EqualTo(DiagnosticCodes.AppliedMigrationMissing));
        Assert.That(plan.Pending, Is.Empty);
    }

    private List<(MigrationFile File, PreparedScript Script)> Prepare(params (string Name, string Sql)[] files) =>
        [.. MigrationSet.Load(files.Select(f =>
            {
                var path = Path.Combine(_folder, f.Name);
                File.WriteAllText(path, f.Sql);
                return path;
            }))
            .InApplyOrder
            .Select(file => (file, new PreparedScript(file.Path, file.Text, [new ScriptStatement(file.Text, 0, 1, 1)], null)))];

    private static HistoryEntry Applied(string? version, string script, string checksum) =>
        new(Id: Random.Shared.Next(), version, "d", script, checksum, 1, 1, "", HistoryOutcome.Success, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null);
}
