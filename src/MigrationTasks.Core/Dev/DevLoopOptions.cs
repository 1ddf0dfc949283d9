using MigrationTasks.Migrations;

namespace MigrationTasks.Dev;

/// <summary>What the build's dev steps are given by the MSBuild targets.</summary>
/// <param name="ConnectionVariable">Name of the environment variable holding the dev connection string.</param>
/// <param name="StateDirectory">The project's folder under obj/ where a throwaway server keeps its data.</param>
/// <param name="SchemaDeploy">
/// A state-based project's deploy (SQL Server: DacFx's script of the dacpac against the dev database), generated once
/// the migrations are applied and then applied by the same runner under the same deploy lock, as one more repeatable
/// migration; null when the project has none.
/// </param>
/// <param name="FullValidation">
/// Prove the chain from an empty database, trusting no cached state (<c>MigrationFullValidation</c>: CI, publish).
/// </param>
public sealed record DevLoopOptions(
    IReadOnlyList<string> Migrations,
    string ConnectionVariable,
    DevDatabaseMode Mode,
    string StateDirectory,
    TimeSpan LockWait,
    ScriptGenerator? SchemaDeploy = null,
    bool FullValidation = false);

/// <summary>The build's database tests: the Tests/ files, the JUnit report to write, its suite name.</summary>
/// <param name="Always">Run every test, not only those <see cref="Testing.TestSelection"/> picks (MigrationTestsAlways).</param>
/// <param name="DeployedStamp">
/// When the tests run right after the dev deploy: the deploy step's stamp, written once the deploy succeeded, so
/// that failing tests do not make the next build deploy again.
/// </param>
public sealed record DevTests(IReadOnlyList<string> Files, string JUnitPath, string SuiteName, bool Always = false, string? DeployedStamp = null);
