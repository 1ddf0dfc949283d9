using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Testing;

/// <summary>One database test's outcome; <see cref="Failure"/> is null when it passed.</summary>
public sealed record TestResult(string Path, TestRun? Run, Diagnostic? Failure)
{
    public bool Passed => Failure is null;
}
