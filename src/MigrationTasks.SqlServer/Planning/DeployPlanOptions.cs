using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>What <see cref="SqlServerPlanner"/> compares: the project's dacpac against production's baseline dacpac.</summary>
/// <param name="Dacpac">The dacpac <c>dotnet build</c> wrote from Schema/: the desired state.</param>
/// <param name="BaselineDacpac">MigrationBaseline: a dacpac of production as it is now.</param>
/// <param name="DatabaseName">MigrationDatabaseName: replaces <c>$(DatabaseName)</c> in the script.</param>
/// <param name="SchemaFiles">Schema/**/*.sql, to name the file that defines each object of a finding; may be empty.</param>
/// <param name="AllowDataLoss">MigrationAllowDataLoss: data-loss findings become warnings, and the script drops data.</param>
/// <param name="FindingsAsErrors">MigrationTreatFindingsAsErrors: every finding is an error.</param>
public sealed record DeployPlanOptions(
    string Dacpac,
    string BaselineDacpac,
    string DatabaseName,
    IReadOnlyList<string> SchemaFiles,
    bool AllowDataLoss = false,
    bool FindingsAsErrors = false,
    SqlServerPlatform? Platform = null);
