using MigrationTasks.Engines;

namespace MigrationTasks.Core.Tests;

public sealed class HistoryOutcomeTextTests
{
    [Test]
    public void The_stored_texts_stay_those_that_existing_history_tables_hold() =>
        Assert.That(Enum.GetValues<HistoryOutcome>().Select(HistoryOutcomeText.Of), Is.EqualTo(new[] { "success", "failed", "running" }));

    [Test]
    public void Every_outcome_reads_back_as_itself([Values] HistoryOutcome outcome) =>
        Assert.That(HistoryOutcomeText.Parse(HistoryOutcomeText.Of(outcome)), Is.EqualTo(outcome));

    [Test]
    public void An_outcome_is_read_in_any_case() =>
        Assert.That(HistoryOutcomeText.Parse("Success"), Is.EqualTo(HistoryOutcome.Success));

    [Test]
    public void An_unknown_outcome_is_refused() =>
        Assert.That(() => HistoryOutcomeText.Parse("succeeded"), Throws.TypeOf<FormatException>().With.Message.Contains("success, failed, running"));
}
