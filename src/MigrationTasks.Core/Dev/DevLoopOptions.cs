namespace MigrationTasks.Dev;

/// <summary>What the build's dev steps are given by the MSBuild targets.</summary>
/// <param name="ConnectionVariable">Name of the environment variable holding the dev connection string.</param>
/// <param name="StateDirectory">The project's folder under obj/ where a throwaway server keeps its data.</param>
public sealed record DevLoopOptions(
    IReadOnlyList<string> Migrations,
    string ConnectionVariable,
    DevDatabaseMode Mode,
    string StateDirectory,
    TimeSpan LockWait);
