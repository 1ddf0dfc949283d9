namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The check to run before any online DacFx call (DacServices, SchemaComparison against a database): DacFx retries an
/// unreachable server for minutes and ignores cancellation, so the connection is opened first with SqlClient and a
/// short connect timeout (15 s unless the string sets one). MIG1003/MIG1004 otherwise, never echoing the string.
/// </summary>
public static class SqlServerConnectionCheck
{
    /// <summary>Opens and closes one connection; returns the display name (server/database) for messages.</summary>
    public static async Task<string> RunAsync(string connectionString, CancellationToken cancellationToken)
    {
        var settings = SqlServerConnections.Parse(connectionString);
        await using var connection = await SqlServerDatabase.OpenConnectionAsync(settings, cancellationToken);
        return SqlServerConnections.Describe(settings, connection.Database);
    }
}
