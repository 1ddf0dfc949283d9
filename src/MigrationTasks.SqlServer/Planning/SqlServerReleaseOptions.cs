using MigrationTasks.Release;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>What the <c>package</c> step needs for a SQL Server release, beyond Core's <see cref="ReleaseOptions"/>.</summary>
/// <param name="Release">Checks/, Verify/, the publish folder, package id and version, MigrationBaseline (a dacpac), signing.</param>
/// <param name="Dacpac">The dacpac the build wrote from Schema/.</param>
/// <param name="DatabaseName">MigrationDatabaseName, for <c>$(DatabaseName)</c>.</param>
/// <param name="SchemaFiles">Schema/**/*.sql, so that findings name the file that defines the object.</param>
public sealed record SqlServerReleaseOptions(
    ReleaseOptions Release,
    string Dacpac,
    string DatabaseName,
    IReadOnlyList<string> SchemaFiles,
    bool AllowDataLoss = false,
    bool FindingsAsErrors = false,
    SqlServerPlatform? Platform = null);
