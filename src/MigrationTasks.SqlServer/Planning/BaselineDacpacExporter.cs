using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Live;
using Microsoft.SqlServer.Dac;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// <c>migrate baseline --engine SqlServer --out production.dacpac</c>: production's schema, read-only, as a dacpac
/// (DacFx Extract, no table data) for MigrationBaseline. The connection is checked first, because DacFx retries an
/// unreachable server for minutes; users, logins and permissions are left out, as the plan never drops them.
/// </summary>
public static class BaselineDacpacExporter
{
    /// <summary>Writes the dacpac (whole or not at all); returns server/database for the message.</summary>
    public static async Task<string> ExportAsync(string connectionString, string output, CancellationToken cancellationToken)
    {
        var settings = SqlServerConnections.Parse(connectionString);
        string database;
        await using (var connection = await SqlServerDatabase.OpenConnectionAsync(settings, cancellationToken))
        {
            database = connection.Database;
        }

        var target = Path.GetFullPath(output);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileNameWithoutExtension(target)}.{Guid.NewGuid():N}.dacpac");
        try
        {
            new DacServices(settings.ConnectionString).Extract(
                temporary,
                database,
                "MigrationBaseline",
                new Version(1, 0, 0),
                $"exported {DateTimeOffset.UtcNow:u} by migrate baseline",
                null,
                new DacExtractOptions
                {
                    ExtractAllTableData = false,
                    IgnorePermissions = true,
                    IgnoreUserLoginMappings = true,
                    VerifyExtraction = true,
                },
                cancellationToken);
            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception e) when (e is DacServicesException or IOException or UnauthorizedAccessException)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.BaselineModelUnreadable,
                $"the baseline dacpac of {SqlServerConnections.Describe(settings, database)} cannot be exported: {SqlServerConnections.Redact(e.Message, settings)}",
                target));
        }
        finally
        {
            File.Delete(temporary);
        }

        return SqlServerConnections.Describe(settings, database);
    }
}
