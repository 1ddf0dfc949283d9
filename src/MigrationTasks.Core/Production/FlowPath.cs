using System.Diagnostics;

namespace MigrationTasks.Production;

public enum StepState
{
    /// <summary>Ran and succeeded, or the decision said yes.</summary>
    Passed,

    /// <summary>Ran and failed, or the decision said no.</summary>
    Failed,

    /// <summary>Not applicable or not configured; the detail says why.</summary>
    Skipped,
}

/// <summary>One node of the flowchart as this run went through it.</summary>
public sealed record FlowStep(string Node, string Title, StepState State, DateTimeOffset Started, long DurationMs, string Detail);

/// <summary>The path a run takes through <see cref="FlowChart"/>, with timings: what report.md draws.</summary>
public sealed class FlowPath
{
    private readonly List<FlowStep> _steps = [];

    public IReadOnlyList<FlowStep> Steps => _steps;

    /// <summary>Starts timing a node; end it with <see cref="Pass"/> or <see cref="Fail"/>.</summary>
    public Timing Begin(string node) => new(node, DateTimeOffset.UtcNow, Stopwatch.StartNew());

    public void Pass(Timing timing, string detail) => Add(timing, StepState.Passed, detail);

    public void Fail(Timing timing, string detail) => Add(timing, StepState.Failed, detail);

    public void Skip(string node, string reason) => _steps.Add(new FlowStep(node, FlowChart.TitleOf(node), StepState.Skipped, DateTimeOffset.UtcNow, 0, reason));

    /// <summary>Records a node that took no time of its own (a decision, or a step done before this run).</summary>
    public void Mark(string node, StepState state, string detail) =>
        _steps.Add(new FlowStep(node, FlowChart.TitleOf(node), state, DateTimeOffset.UtcNow, 0, detail));

    private void Add(Timing timing, StepState state, string detail) =>
        _steps.Add(new FlowStep(timing.Node, FlowChart.TitleOf(timing.Node), state, timing.Started, timing.Clock.ElapsedMilliseconds, detail));

    public readonly record struct Timing(string Node, DateTimeOffset Started, Stopwatch Clock);
}
