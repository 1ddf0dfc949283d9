using System.Text;
using MigrationTasks.Applying;
using MigrationTasks.Common;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Scripts;

namespace MigrationTasks.Core.Tests.Applying;

/// <summary>The apply-and-history protocol every engine runs, over a session in memory.</summary>
public sealed class MigrationApplierTests
{
    private static readonly ApplyContext Dev = new("host");
    private static readonly ApplyContext Production = new("host", DeployId: "deploy-1", RecordFailures: false);

    [Test]
    public async Task A_transactional_migration_claims_its_row_before_its_first_statement_and_commits_with_it()
    {
        var session = new FakeMigrationSession();

        await MigrationApplier.ApplyAsync(session, Step(3), Dev, CancellationToken.None);

        Assert.That(session.Calls, Is.EqualTo(new[] { "prove lock", "begin", "claim", "execute all 3", "complete claim", "prove lock", "commit", "dispose" }));
        Assert.That(session.Rows.Values, Is.EqualTo(new[] { new FakeMigrationSession.FakeRow(HistoryOutcome.Success, 3, null) }));
    }

    [Test]
    public async Task A_non_transactional_migration_is_running_in_the_history_before_its_first_statement_and_a_success_after_its_last()
    {
        var session = new FakeMigrationSession();

        await MigrationApplier.ApplyAsync(session, Step(2, inTransaction: false), Dev, CancellationToken.None);

        Assert.That(session.Calls.Where(c => !c.Contains("stretch") && c != "prove lock"), Is.EqualTo(new[]
        {
            "insert Running 0", "execute 0", "update Running 1", "execute 1", "update Success 2",
        }));
        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Success, 2, null)));
    }

    [Test]
    public void A_failure_in_statement_3_of_a_non_transactional_migration_records_it_failed_with_2_applied()
    {
        var session = new FakeMigrationSession { Stops = { [2] = FakeMigrationSession.Failure } };

        var failure = Assert.ThrowsAsync<ScriptFailedException>(() => MigrationApplier.ApplyAsync(session, Step(4, inTransaction: false), Dev, CancellationToken.None))!;

        Assert.That(failure.StatementNumber, Is.EqualTo(3));
        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Failed, 2, "statement 3: it broke")));
        Assert.That(session.Calls, Does.Not.Contain("execute 3"));
        Assert.That(session.Calls[^2..], Is.EqualTo(new[] { "update Failed 2", "end stretch" }), "the stretch that failed is still measured");
    }

    [Test]
    public void A_cancelled_transactional_migration_rolls_back_and_records_nothing_when_failures_are_not_recorded()
    {
        var session = new FakeMigrationSession { Stops = { [1] = FakeMigrationSession.Cancellation } };

        Assert.ThrowsAsync<OperationCanceledException>(() => MigrationApplier.ApplyAsync(session, Step(3), Production, CancellationToken.None));

        Assert.That(session.Calls, Does.Contain("rollback").And.Not.Contain("commit"));
        Assert.That(session.Calls.Where(c => c.StartsWith("insert", StringComparison.Ordinal)), Is.Empty);
        Assert.That(session.Rows, Is.Empty);
    }

    [Test]
    public void A_failed_transactional_migration_is_rolled_back_then_recorded_as_failed_with_nothing_applied_in_a_dev_build()
    {
        var session = new FakeMigrationSession { Stops = { [1] = FakeMigrationSession.Failure } };

        Assert.ThrowsAsync<ScriptFailedException>(() => MigrationApplier.ApplyAsync(session, Step(3), Dev, CancellationToken.None));

        Assert.That(session.Calls, Is.EqualTo(new[] { "prove lock", "begin", "claim", "execute all 3", "rollback", "insert Failed 0", "dispose" }));
        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Failed, 0, "statement 2: it broke")));
    }

    [Test]
    public void A_failed_transactional_migration_of_a_production_deploy_leaves_the_history_as_it_was()
    {
        var session = new FakeMigrationSession { Stops = { [1] = FakeMigrationSession.Failure } };

        Assert.ThrowsAsync<ScriptFailedException>(() => MigrationApplier.ApplyAsync(session, Step(3), Production, CancellationToken.None));

        Assert.That(session.Calls, Does.Contain("rollback").And.Not.Contain("commit"));
        Assert.That(session.Rows, Is.Empty, "the deploy attempt records the failure instead");
    }

    [Test]
    public void A_cancelled_transactional_migration_is_not_recorded_even_where_failures_are()
    {
        var session = new FakeMigrationSession { Stops = { [0] = FakeMigrationSession.Cancellation } };

        Assert.ThrowsAsync<OperationCanceledException>(() => MigrationApplier.ApplyAsync(session, Step(3), Dev, CancellationToken.None));

        Assert.That(session.Calls, Does.Contain("rollback"));
        Assert.That(session.Rows, Is.Empty);
    }

    [Test]
    public void A_lock_lost_before_the_commit_throws_and_nothing_is_committed()
    {
        var session = new FakeMigrationSession { LockLostAtProof = 2 };

        Assert.ThrowsAsync<DeployLockLostException>(() => MigrationApplier.ApplyAsync(session, Step(3), Dev, CancellationToken.None));

        Assert.That(session.Calls, Is.EqualTo(new[] { "prove lock", "begin", "claim", "execute all 3", "complete claim", "prove lock", "dispose" }));
        Assert.That(session.Rows, Is.Empty, "the claim went with the transaction, and a lost lock records no failure");
    }

    [Test]
    public void A_lock_lost_before_the_migration_runs_nothing()
    {
        var session = new FakeMigrationSession { LockLostAtProof = 1 };

        Assert.ThrowsAsync<DeployLockLostException>(() => MigrationApplier.ApplyAsync(session, Step(3, inTransaction: false), Dev, CancellationToken.None));

        Assert.That(session.Calls, Is.EqualTo(new[] { "prove lock" }));
    }

    [Test]
    public void A_lock_lost_between_two_statements_of_a_non_transactional_migration_stops_before_the_next()
    {
        // Proofs: before the migration, before statement 1, before statement 2.
        var session = new FakeMigrationSession { LockLostAtProof = 3 };

        Assert.ThrowsAsync<DeployLockLostException>(() => MigrationApplier.ApplyAsync(session, Step(3, inTransaction: false), Dev, CancellationToken.None));

        Assert.That(session.Calls, Does.Contain("execute 0").And.Not.Contain("execute 1"));
        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Running, 1, null)));
    }

    [Test]
    public async Task A_resumed_migration_starts_at_its_first_statement()
    {
        var session = new FakeMigrationSession();

        await MigrationApplier.ApplyAsync(session, Step(4, inTransaction: false, firstStatement: 2), Dev, CancellationToken.None);

        Assert.That(session.Calls.Where(c => c.StartsWith("insert", StringComparison.Ordinal) || c.StartsWith("execute", StringComparison.Ordinal)),
            Is.EqualTo(new[] { "insert Running 2", "execute 2", "execute 3" }));
        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Success, 4, null)));
    }

    [Test]
    public async Task A_resumed_migration_with_no_statement_left_is_recorded_as_a_success()
    {
        var session = new FakeMigrationSession();

        await MigrationApplier.ApplyAsync(session, Step(2, inTransaction: false, firstStatement: 2), Dev, CancellationToken.None);

        Assert.That(session.Calls.Where(c => c != "prove lock"), Is.EqualTo(new[] { "insert Running 2", "update Success 2" }));
    }

    [Test]
    public void A_cancelled_statement_is_recorded_as_failed_where_the_engine_records_cancellations()
    {
        var session = new FakeMigrationSession { Stops = { [1] = FakeMigrationSession.Cancellation } };

        Assert.ThrowsAsync<OperationCanceledException>(() => MigrationApplier.ApplyAsync(session, Step(3, inTransaction: false), Production, CancellationToken.None));

        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Failed, 1, MigrationApplier.Cancelled)));
    }

    [Test]
    public void A_cancelled_statement_is_left_running_where_the_engine_does_not_record_cancellations()
    {
        var session = new FakeMigrationSession { RecordsCancellation = false, Stops = { [1] = FakeMigrationSession.Cancellation } };

        Assert.ThrowsAsync<OperationCanceledException>(() => MigrationApplier.ApplyAsync(session, Step(3, inTransaction: false), Production, CancellationToken.None));

        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Running, 1, null)));
        Assert.That(session.Calls[^1], Is.EqualTo("execute 1"), "nothing is recorded after it");
    }

    [Test]
    public void A_failure_inside_the_scripts_own_transaction_rolls_it_back_and_records_what_ran_before_its_begin()
    {
        // Statement 2 (index 1) is the script's BEGIN: its progress row and the next one are written inside it.
        var session = new FakeMigrationSession { InsideScriptTransactionAfter = { 1, 2 }, Stops = { [3] = FakeMigrationSession.Failure } };

        Assert.ThrowsAsync<ScriptFailedException>(() => MigrationApplier.ApplyAsync(session, Step(5, inTransaction: false), Dev, CancellationToken.None));

        Assert.That(session.Calls[^4..], Is.EqualTo(new[] { "execute 3", "rollback script transaction", "update Failed 1", "end stretch" }));
        Assert.That(session.Rows.Values.Single().StatementsApplied, Is.EqualTo(1));
    }

    [Test]
    public void The_writes_inside_the_scripts_own_transaction_are_measured_as_one_stretch()
    {
        var session = new FakeMigrationSession { InsideScriptTransactionAfter = { 1, 2 } };

        Assert.DoesNotThrowAsync(() => MigrationApplier.ApplyAsync(session, Step(5, inTransaction: false), Dev, CancellationToken.None));

        var stretches = session.Calls.Where(c => c.Contains("stretch") || c.StartsWith("execute", StringComparison.Ordinal));
        Assert.That(stretches, Is.EqualTo(new[]
        {
            "begin stretch", "execute 0", "end stretch",
            "begin stretch", "execute 1", "execute 2", "execute 3", "end stretch",
            "begin stretch", "execute 4", "end stretch",
        }));
    }

    [Test]
    public void A_script_that_ends_inside_its_own_transaction_fails_where_that_transaction_began()
    {
        var session = new FakeMigrationSession { InsideScriptTransactionAfter = { 1, 2 } };

        var failure = Assert.ThrowsAsync<ScriptFailedException>(() => MigrationApplier.ApplyAsync(session, Step(3, inTransaction: false), Dev, CancellationToken.None))!;

        Assert.That(failure.StatementNumber, Is.EqualTo(2));
        Assert.That(session.Calls[^3..], Is.EqualTo(new[] { "rollback script transaction", "update Failed 1", "end stretch" }));
        Assert.That(session.Rows.Values.Single(), Is.EqualTo(new FakeMigrationSession.FakeRow(HistoryOutcome.Failed, 1, "statement 2: the script's transaction was left open")));
    }

    [Test]
    public async Task A_release_applies_a_migration_claimed_run_and_completed_and_leaves_the_commit_to_itself()
    {
        var session = new FakeMigrationSession();
        await using var release = await session.BeginTransactionAsync(CancellationToken.None);

        await MigrationApplier.ApplyInAsync(release, Step(2), CancellationToken.None);

        Assert.That(session.Calls, Is.EqualTo(new[] { "begin", "claim", "execute all 2", "complete claim" }));
        Assert.That(session.Rows, Is.Empty);
    }

    [Test]
    public void A_release_refuses_a_migration_that_cannot_run_in_a_transaction() =>
        Assert.Throws<InvalidOperationException>(() => MigrationApplier.RequireTransactional(Step(1, inTransaction: false)));

    private static MigrationStep Step(int statements, bool inTransaction = true, int firstStatement = 0)
    {
        var texts = Enumerable.Range(1, statements).Select(i => $"SELECT {i}").ToList();
        var text = string.Join(";\n", texts);
        var file = MigrationFile.From(new SourceFile("V1__test.sql", Encoding.UTF8.GetBytes(text)));
        var parsed = texts.Select((t, i) => new ScriptStatement(t, text.IndexOf(t, StringComparison.Ordinal), i + 1, 1)).ToList();
        return new MigrationStep(file, new PreparedScript(file.Path, text, parsed, inTransaction ? null : "marked"), firstStatement);
    }
}
