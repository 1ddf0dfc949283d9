using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Testing;

/// <summary>One database test's outcome; <see cref="Failure"/> is null when it passed.</summary>
public sealed record TestResult(string Path, TestRun? Run, Diagnostic? Failure)
{
    public bool Passed => Failure is null;

    /// <summary>The SHA-256 of the file's bytes as they ran (or were kept); null when the file could not be read.</summary>
    public string? SourceHash { get; init; }

    /// <summary>
    /// Not run this time: a selective run (<see cref="TestSelection"/>) kept its earlier pass, since neither it nor
    /// the dev database changed since. Such a result has no <see cref="Run"/>.
    /// </summary>
    public bool Kept { get; init; }
}
