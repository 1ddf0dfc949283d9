using System.Collections;
using Microsoft.Build.Framework;

namespace MigrationTasks.Tasks.Tests;

/// <summary>
/// MSBuild's side of a task (<see cref="IBuildEngine"/>, the contract every task is run through), keeping every
/// event the task logs so a test can read them, as a build log would show them.
/// </summary>
public sealed class RecordingBuildEngine : IBuildEngine
{
    public List<BuildErrorEventArgs> Errors { get; } = [];

    public List<BuildWarningEventArgs> Warnings { get; } = [];

    public List<BuildMessageEventArgs> Messages { get; } = [];

    public List<CustomBuildEventArgs> Custom { get; } = [];

    /// <summary>Every event's text, in one string: where a secret must never be.</summary>
    public string Log => string.Join("\n",
        Errors.Select(e => $"{e.File}({e.LineNumber},{e.ColumnNumber}): error {e.Code}: {e.Message}")
            .Concat(Warnings.Select(e => $"{e.File}({e.LineNumber},{e.ColumnNumber}): warning {e.Code}: {e.Message}"))
            .Concat(Messages.Select(e => e.Message))
            .Concat(Custom.Select(e => e.Message)));

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public string ProjectFileOfTaskNode => "test.proj";

    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);

    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e);

    public void LogCustomEvent(CustomBuildEventArgs e) => Custom.Add(e);

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException("MigrationTool builds no other project.");
}
