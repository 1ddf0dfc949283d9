using MigrationTasks.Diagnostics;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>What <see cref="DacpacBuilder"/> compiles and where the dacpac goes.</summary>
/// <param name="SchemaFiles">The desired state: <c>Schema/**/*.sql</c>, one or more objects per file.</param>
/// <param name="PreDeploymentScript">Run before the deploy (<c>Deploy/PreDeployment.sql</c>); carried in the dacpac.</param>
/// <param name="PostDeploymentScript">Run after the deploy (<c>Deploy/PostDeployment.sql</c>); carried in the dacpac.</param>
/// <param name="OutputPath">The dacpac to write; deleted when the build has errors, so that no stale one is deployed.</param>
/// <param name="DatabaseName">The dacpac's name (its metadata), by default the file name without extension.</param>
/// <param name="SqlCmdVariables">SQLCMD variables of the deployment scripts (SqlCmdVariable items), besides the built-in DatabaseName.</param>
/// <param name="AnalysisRules">MigrationCodeAnalysisRules, see <see cref="CodeAnalysisRules"/>.</param>
public sealed record DacpacBuildOptions(
    IReadOnlyList<string> SchemaFiles,
    string OutputPath,
    string? PreDeploymentScript = null,
    string? PostDeploymentScript = null,
    SqlServerPlatform? Platform = null,
    string? DatabaseName = null,
    CodeAnalysisRules? AnalysisRules = null,
    WarningPolicy? Warnings = null,
    IReadOnlyDictionary<string, string>? SqlCmdVariables = null);
