using System.Text;
using MigrationTasks.Common;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Production;
using MigrationTasks.Release;

namespace MigrationTasks.Core.Tests.Production;

/// <summary>
/// What a deploy does with the attempts an earlier run left in the database: a release counts as deployed only when a
/// run verified it; an interrupted one is finished the way its run would have finished it, or refused for a person.
/// </summary>
public sealed class DeployResumptionTests
{
    private static readonly MigrationFile V2 = MigrationFile.From(new SourceFile("V2__b.sql", Encoding.UTF8.GetBytes("SELECT 2;")));
    private static readonly MigrationFile V3 = MigrationFile.From(new SourceFile("V3__c.sql", Encoding.UTF8.GetBytes("SELECT 3;")));

    private static readonly ReleaseToDeploy Release = new(
        "shop", "1.1.0", "PostgreSql", [new SourceFile("V2__b.sql", Encoding.UTF8.GetBytes("SELECT 2;"))], [], [], ReleaseToDeploy.EmptyDatabase, null, null, ManifestSha256: "release-1.1.0");

    private static DeployAttempt Attempt(DeployState state, string release = "release-1.1.0", string id = "a1") =>
        new(id, "shop", "1.1.0", release, state, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "backup-1", "/backups", "detail", "host");

    private static HistoryEntry Applied(MigrationFile file, string deployId, HistoryOutcome outcome = HistoryOutcome.Success, int statements = 1) =>
        new(1, file.Version?.Canonical, file.Description, file.ScriptName, file.Checksum, statements, 1, "", outcome, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, deployId);

    [Test]
    public void With_no_attempt_the_deploy_goes_ahead() =>
        Assert.That(DeployResumption.Decide(Release, [V2], [], []).Kind, Is.EqualTo(ResumeKind.Deploy));

    [Test]
    public void Only_a_verified_attempt_of_this_exact_release_counts_as_deployed()
    {
        Assert.That(DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Verified)], []).Kind, Is.EqualTo(ResumeKind.AlreadyDeployed));
        Assert.That(DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Verified, release: "another build")], []).Kind, Is.EqualTo(ResumeKind.Deploy));
        Assert.That(DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Failed)], []).Kind, Is.EqualTo(ResumeKind.Deploy));
        Assert.That(DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Restored)], []).Kind, Is.EqualTo(ResumeKind.Deploy));
    }

    [Test]
    public void A_run_killed_after_committing_every_migration_but_before_verifying_is_verified_again()
    {
        Assert.That(DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Migrated)], [Applied(V2, "a1")]).Kind, Is.EqualTo(ResumeKind.Reverify));
        Assert.That(DeployResumption.Decide(Release, [V2, V3], [Attempt(DeployState.Started)], [Applied(V2, "a1"), Applied(V3, "a1")]).Kind, Is.EqualTo(ResumeKind.Reverify),
            "its last record is older than its last commit");
    }

    [Test]
    public void A_run_killed_part_way_is_recovered_from_its_backup()
    {
        var decision = DeployResumption.Decide(Release, [V2, V3], [Attempt(DeployState.Started)], [Applied(V2, "a1")]);

        Assert.That(decision.Kind, Is.EqualTo(ResumeKind.RecoverInterrupted));
        Assert.That(decision.Reason, Does.Contain("V2__b.sql").And.Contain("backup-1"));
        Assert.That(DeployResumption.Decide(Release, [V2, V3], [Attempt(DeployState.Started)], [Applied(V3, "a1", HistoryOutcome.Running, statements: 1)]).Kind,
            Is.EqualTo(ResumeKind.RecoverInterrupted), "a statement outside a transaction committed");
    }

    [Test]
    public void A_run_killed_before_committing_anything_is_closed_as_failed_and_the_deploy_goes_ahead()
    {
        var decision = DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Started)], [Applied(V2, "another attempt")]);

        Assert.That(decision.Kind, Is.EqualTo(ResumeKind.Deploy));
        Assert.That(decision.Abandoned!.State, Is.EqualTo(DeployState.Failed));
        Assert.That(decision.Abandoned.Detail, Does.StartWith("interrupted before anything was committed"));
    }

    [Test]
    public void A_restore_that_was_not_seen_to_finish_is_finished()
    {
        Assert.That(DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Restoring)], [Applied(V2, "a1")]).Kind, Is.EqualTo(ResumeKind.FinishRestore));
    }

    [TestCase(DeployState.NeedsPerson, "release-1.1.0")]
    [TestCase(DeployState.Migrated, "another release")]
    [TestCase(DeployState.Restoring, "another release")]
    public void An_attempt_that_needs_a_person_or_belongs_to_another_unfinished_release_stops_every_deploy(DeployState state, string release)
    {
        var decision = DeployResumption.Decide(Release, [V2], [Attempt(state, release)], [Applied(V2, "a1")]);

        Assert.That(decision.Kind, Is.EqualTo(ResumeKind.NeedsPerson));
        Assert.That(decision.Reason, Does.Contain("a1").And.Contain("migrate resolve"));
    }

    [Test]
    public void An_attempt_that_needs_a_person_names_the_command_that_restores_its_backup_with_the_releases_engine()
    {
        var decision = DeployResumption.Decide(Release, [V2], [Attempt(DeployState.NeedsPerson)], [Applied(V2, "a1")]);

        Assert.That(decision.Reason, Does.Contain("`dotnet migrate.dll restore --engine PostgreSql --connection-variable VAR --backup-dir /backups --backup backup-1`"));
    }

    [Test]
    public void A_resolved_attempt_no_longer_stops_anything() =>
        Assert.That(DeployResumption.Decide(Release, [V2], [Attempt(DeployState.Resolved), Attempt(DeployState.Failed, id: "a2")], []).Kind,
            Is.EqualTo(ResumeKind.Deploy));
}
