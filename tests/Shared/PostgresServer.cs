using MigrationTasks.PostgreSql.Ephemeral;
using Npgsql;

namespace MigrationTasks.PostgreSql.Tests;

/// <summary>
/// One throwaway PostgreSQL cluster for the whole test run, started by the first test that needs it and deleted at
/// the end, with a new empty database for each test so that tests never see each other's objects.
/// Shared by the test projects (linked source); <see cref="PostgresServerTeardown"/> ends it in each assembly.
/// </summary>
public static class PostgresServer
{
    private static readonly string DataDirectory = Path.Combine(Path.GetTempPath(), $"migrationtasks-tests-{Guid.NewGuid():N}");
    private static readonly Lazy<Task<EphemeralPostgresCluster>> Cluster = new(() => EphemeralPostgresCluster.CreateAsync(DataDirectory));
    private static int _databaseCount;

    /// <summary>Ignores the calling test or fixture when PostgreSQL is not installed.</summary>
    public static void Require()
    {
        if (PostgresBinaries.FindBinDirectory() is null)
        {
            Assert.Ignore("PostgreSQL server programs (initdb, pg_ctl) are not installed, so database tests cannot run.");
        }
    }

    /// <summary>Creates an empty database and returns its connection string; ignores the test when PostgreSQL is not installed.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        Require();
        var cluster = await Cluster.Value;
        var name = $"test_{Interlocked.Increment(ref _databaseCount)}";
        await cluster.CreateDatabaseAsync(name);
        // Unpooled: idle pooled connections of finished tests would add up against the server's max_connections.
        return new NpgsqlConnectionStringBuilder(cluster.ConnectionString(name)) { Pooling = false }.ConnectionString;
    }

    /// <summary>Runs a query and returns its rows, every value as text (NULL as null).</summary>
    public static async Task<List<string?[]>> QueryAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { AllResultTypesAreUnknown = true };
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i))]);
        }

        return rows;
    }

    public static async Task DeleteClusterAsync()
    {
        if (Cluster.IsValueCreated && Cluster.Value.IsCompletedSuccessfully)
        {
            await Cluster.Value.Result.DisposeAsync();
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
