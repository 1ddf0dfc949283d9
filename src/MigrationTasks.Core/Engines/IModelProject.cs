using MigrationTasks.Diagnostics;
using MigrationTasks.Migrations;
using MigrationTasks.Release;
using MigrationTasks.Staging;

namespace MigrationTasks.Engines;

/// <summary>
/// A state-based project: its desired schema is a compiled model (e.g. Schema/ built into a model file at
/// <c>dotnet build</c>), and each deploy runs the script the engine generates from the target's state to that model,
/// instead of a list of migrations. The engine that supports such projects supplies what they change in the flow;
/// Core runs the same dev loop, staging gate and release runner around them.
/// </summary>
public interface IModelProject
{
    /// <summary>The dev deploy's last step: the model's script generated against the dev database and applied as one more repeatable migration.</summary>
    ScriptGenerator DevDeploy { get; }

    /// <summary>What the staging gate compares staging with and rehearses there.</summary>
    IStagingSource StagingSource { get; }

    /// <summary>The package step: the release generated against the baseline; null when a finding is an error (then no release is left behind).</summary>
    ReleaseManifest? WriteRelease(ReleaseOptions release);

    /// <summary>
    /// Says, once per build, that the project's migration files are not deployed: the model's script is the release,
    /// so migrations applied only at dev would make dev differ from what staging rehearses and production receives.
    /// </summary>
    void WarnMigrationsIgnored(IReadOnlyList<string> migrations);
}

/// <summary>What the targets pass for a state-based project.</summary>
/// <param name="Model">The compiled model <c>dotnet build</c> wrote (the desired state).</param>
/// <param name="Baseline">MigrationBaseline: a model of production; null for a release to an empty database.</param>
/// <param name="DatabaseName">MigrationDatabaseName, which the generated script may name; null: the engine's default.</param>
/// <param name="AllowDataLoss">MigrationAllowDataLoss: otherwise a script that would drop data stops (or is refused at packaging).</param>
/// <param name="TargetPlatform">The server version the model targets, in the engine's own words (e.g. MigrationSqlServerVersion); null: the engine's default.</param>
/// <param name="SchemaFiles">The model's source files, so that findings name the file that defines an object.</param>
/// <param name="FindingsAsErrors">MigrationTreatFindingsAsErrors.</param>
/// <param name="StateDirectory">The project's folder under obj/ for generated scripts and work files.</param>
public sealed record ModelProjectOptions(
    string Model,
    string? Baseline,
    string? DatabaseName,
    bool AllowDataLoss,
    string? TargetPlatform,
    IReadOnlyList<string> SchemaFiles,
    bool FindingsAsErrors,
    string StateDirectory,
    Reporter Reporter);
