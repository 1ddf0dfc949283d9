using System.Globalization;
using DotNet.Testcontainers.Builders;
using Microsoft.Data.SqlClient;
using Testcontainers.MsSql;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The SQL Server the live tests run against: the one <c>MIGRATIONTASKS_TEST_SQLSERVER</c> names (a connection
/// string with a login that may create databases), else a container from Testcontainers.MsSql where Docker works.
/// Neither here: every live fixture is ignored in its OneTimeSetUp, with the reason printed.
/// Backups need a folder the server writes and the tests read: with a container it is a host folder mounted at the
/// same path inside it; with a given server, <c>MIGRATIONTASKS_TEST_SQLSERVER_BACKUP_DIR</c> (else those tests are ignored).
/// </summary>
internal static class SqlServerTestServer
{
    public const string Variable = "MIGRATIONTASKS_TEST_SQLSERVER";
    public const string BackupVariable = "MIGRATIONTASKS_TEST_SQLSERVER_BACKUP_DIR";

    private static readonly Lazy<Task<Server>> Instance = new(StartAsync);

    /// <summary>Ignores the calling fixture (Assert.Ignore, reason printed) when no SQL Server can be had.</summary>
    public static async Task RequireAsync()
    {
        var server = await Instance.Value;
        if (server.Unavailable is { } reason)
        {
            await TestContext.Progress.WriteLineAsync($"SQL Server live tests ignored: {reason}");
            Assert.Ignore(reason);
        }
    }

    /// <summary>The folder backups go to, or null (with the fixture ignored) when the server's file system is not shared.</summary>
    public static async Task<string> RequireBackupDirectoryAsync()
    {
        await RequireAsync();
        var server = await Instance.Value;
        if (server.BackupDirectory is null)
        {
            var reason = $"{BackupVariable} is not set: backup and restore tests need a folder the SQL Server writes and this machine reads";
            await TestContext.Progress.WriteLineAsync($"SQL Server backup tests ignored: {reason}");
            Assert.Ignore(reason);
        }

        var folder = Path.Combine(server.BackupDirectory!, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        OpenToEveryone(folder);
        return folder;
    }

    /// <summary>A connection string to a new, empty database of its own.</summary>
    public static async Task<string> CreateDatabaseAsync(string? password = null)
    {
        await RequireAsync();
        var server = await Instance.Value;
        var name = $"mt_test_{Guid.NewGuid():N}"[..24];
        var master = new SqlConnectionStringBuilder(server.ConnectionString!) { InitialCatalog = "master", Pooling = false };
        await using (var connection = new SqlConnection(master.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new SqlCommand($"CREATE DATABASE [{name}]", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new SqlConnectionStringBuilder(server.ConnectionString!) { InitialCatalog = name }.ConnectionString;
    }

    /// <summary>Every row of every result set of <paramref name="sql"/>, values as invariant text.</summary>
    public static async Task<List<string?[]>> QueryAsync(string connectionString, string sql)
    {
        var rows = new List<string?[]>();
        await using var connection = new SqlConnection(new SqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new SqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        do
        {
            while (await reader.ReadAsync())
            {
                rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))]);
            }
        }
        while (await reader.NextResultAsync());

        return rows;
    }

    private static async Task<Server> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            return new Server(given, Environment.GetEnvironmentVariable(BackupVariable) is { Length: > 0 } folder ? folder : null, null);
        }

        // The container writes backups into a host folder mounted at the same path, so that both see one file.
        var shared = Directory.CreateTempSubdirectory("migrationtasks-mssql-backups-").FullName;
        OpenToEveryone(shared);
        MsSqlContainer container;
        try
        {
            container = new MsSqlBuilder("mcr.microsoft.com/mssql/server:2022-latest")
                .WithBindMount(shared, shared)
                .Build();
        }
        catch (DockerUnavailableException e)
        {
            return new Server(null, null, $"{Variable} is not set and Docker is unavailable for Testcontainers.MsSql ({e.Message.Split('\n')[0]})");
        }

        try
        {
            await container.StartAsync();
        }
        catch (Exception e)
        {
            return new Server(null, null, $"{Variable} is not set and the SQL Server container did not start: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return new Server(container.GetConnectionString(), shared, null);
    }

    // The server's service account (mssql, uid 10001 in the container) must write where the tests read.
    private static void OpenToEveryone(string folder)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0x1FF);
        }
    }

    private sealed record Server(string? ConnectionString, string? BackupDirectory, string? Unavailable);
}
