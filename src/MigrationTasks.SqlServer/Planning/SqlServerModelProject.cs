using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.Staging;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// A SQL Server project with Schema/: its model is the dacpac <c>dotnet build</c> compiled, and every deploy runs
/// DacFx's script from the target (the dev database, the baseline dacpac) to it. Composes the SQL Server pieces of
/// the dev deploy (<see cref="SchemaDeployScript"/>), the staging gate (<see cref="SqlServerStagingSource"/>) and the
/// package step (<see cref="SqlServerReleaseWriter"/>) from the options the targets pass.
/// </summary>
internal sealed class SqlServerModelProject(ModelProjectOptions options) : IModelProject
{
    private readonly SqlServerPlatform _platform = SqlServerPlatform.Parse(options.TargetPlatform);

    public ScriptGenerator DevDeploy => (database, cancellationToken) => SchemaDeployScript.AgainstDatabaseAsync(
        database,
        new SchemaDeployScript.Options(options.Model, options.AllowDataLoss, _platform, Path.Combine(options.StateDirectory, "dev-sqlserver")),
        options.Reporter,
        cancellationToken);

    public IStagingSource StagingSource => new SqlServerStagingSource(options.Reporter, new SqlServerStagingSource.Options(
        options.Model,
        options.Baseline,
        // The rehearsal plans with staging's own name in the place of this one.
        options.DatabaseName ?? Path.GetFileNameWithoutExtension(options.Model),
        options.AllowDataLoss,
        _platform,
        Path.Combine(options.StateDirectory, "staging-sqlserver")));

    public ReleaseManifest? WriteRelease(ReleaseOptions release) =>
        new SqlServerReleaseWriter(options.Reporter).Write(new SqlServerReleaseOptions(
            release,
            options.Model,
            options.DatabaseName ?? release.PackageId,
            options.SchemaFiles,
            options.AllowDataLoss,
            options.FindingsAsErrors,
            _platform));

    /// <summary>
    /// MIG2026, once per build (at the dev deploy). State-based: the release is DacFx's script of Schema/, so
    /// migrations applied only at dev would make dev differ from what staging rehearses and production receives.
    /// </summary>
    public void WarnMigrationsIgnored(IReadOnlyList<string> migrations) =>
        options.Reporter.Report(Diagnostic.Warning(
            DiagnosticCodes.MigrationsBesideSchema,
            $"{migrations.Count} migration file(s) (e.g. {Path.GetFileName(migrations[0])}) are ignored: a SQL Server project with Schema/ is state-based, " +
            "and its release is DacFx's deploy script of the dacpac. Move data changes into Deploy/PreDeployment.sql or Deploy/PostDeployment.sql, " +
            "or remove Schema/ to deploy versioned migrations instead.",
            migrations[0]));
}
