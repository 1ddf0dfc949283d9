using MigrationTasks.PostgreSql.Schema;
using MigrationTasks.Schema;
using Npgsql;

namespace MigrationTasks.PostgreSql.Tests.Schema;

/// <summary>Builds test databases from DDL and reads their snapshots.</summary>
internal static class SchemaDatabase
{
    public static async Task<string> BuildAsync(params string[] scripts)
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await RunAsync(connectionString, scripts);
        return connectionString;
    }

    public static async Task RunAsync(string connectionString, params string[] scripts)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var script in scripts)
        {
            await using var command = new NpgsqlCommand(script, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public static async Task<SchemaSnapshot> SnapshotAsync(string connectionString, SchemaSnapshotOptions? options = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return await SchemaSnapshotReader.ReadAsync(connection, options);
    }

    public static async Task<SchemaSnapshot> BuildAndSnapshotAsync(params string[] scripts) =>
        await SnapshotAsync(await BuildAsync(scripts));
}
