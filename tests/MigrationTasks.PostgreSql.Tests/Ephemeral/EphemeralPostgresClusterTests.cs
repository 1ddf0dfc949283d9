using System.Runtime.Versioning;
using MigrationTasks.PostgreSql.Ephemeral;
using Npgsql;

namespace MigrationTasks.PostgreSql.Tests.Ephemeral;

public sealed class EphemeralPostgresClusterTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder()
    {
        if (PostgresBinaries.FindBinDirectory() is null)
        {
            Assert.Ignore("PostgreSQL server programs (initdb, pg_ctl) are not installed.");
        }

        // Not Directory.CreateTempSubdirectory: its folders are private to us (mode 700), and as root the server runs
        // as the postgres user, which must be able to enter them.
        _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"migrationtasks-cluster-{Guid.NewGuid():N}")).FullName;
    }

    [TearDown]
    public void DeleteFolder()
    {
        if (_folder is not null && Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Test]
    public async Task A_stopped_cluster_starts_again_with_its_databases()
    {
        var dataDirectory = Path.Combine(_folder, "data");
        await using (var created = await EphemeralPostgresCluster.CreateAsync(dataDirectory))
        {
            await created.CreateDatabaseAsync("kept");
            await created.StopAsync();
        }

        await using var started = await EphemeralPostgresCluster.StartAsync(dataDirectory);

        Assert.That(await QueryAsync(started.ConnectionString("kept"), "SELECT current_database()"), Is.EqualTo("kept"));
    }

    [Test]
    public async Task The_server_listens_on_localhost_only_and_without_a_unix_socket()
    {
        await using var cluster = await EphemeralPostgresCluster.CreateAsync(Path.Combine(_folder, "data"));

        var connectionString = cluster.ConnectionString();
        Assert.Multiple(async () =>
        {
            Assert.That(await QueryAsync(connectionString, "SHOW listen_addresses"), Is.EqualTo("127.0.0.1"));
            Assert.That(await QueryAsync(connectionString, "SHOW unix_socket_directories"), Is.Empty);
            Assert.That(await QueryAsync(connectionString, "SHOW fsync"), Is.EqualTo("off"));
            Assert.That(await QueryAsync(connectionString, "SHOW server_encoding"), Is.EqualTo("UTF8"));
        });
    }

    [Test]
    public async Task Stopping_twice_is_harmless()
    {
        var cluster = await EphemeralPostgresCluster.CreateAsync(Path.Combine(_folder, "data"));

        await cluster.StopAsync();
        await cluster.StopAsync(fast: false);
        await cluster.DisposeAsync();

        Assert.That(File.Exists(Path.Combine(cluster.DataDirectory, "postmaster.pid")), Is.False);
    }

    [Test]
    public void A_folder_that_is_not_empty_is_refused()
    {
        File.WriteAllText(Path.Combine(_folder, "precious.txt"), "keep me");

        Assert.That(
            async () => await EphemeralPostgresCluster.CreateAsync(_folder),
            Throws.InvalidOperationException.With.Message.Contains("not empty"));
    }

    [Test]
    public async Task A_server_that_does_not_start_shows_the_end_of_its_log()
    {
        var dataDirectory = Path.Combine(_folder, "data");
        await (await EphemeralPostgresCluster.CreateAsync(dataDirectory)).StopAsync();
        await File.AppendAllTextAsync(Path.Combine(dataDirectory, "postgresql.conf"), "no_such_setting = 1\n");

        Assert.That(
            async () => await EphemeralPostgresCluster.StartAsync(dataDirectory),
            Throws.InvalidOperationException.With.Message.Contains("unrecognized configuration parameter \"no_such_setting\""));
    }

    [Test]
    [UnsupportedOSPlatform("windows")]
    public void As_root_a_parent_folder_the_postgres_user_cannot_enter_is_named()
    {
        if (OperatingSystem.IsWindows() || !Environment.IsPrivilegedProcess)
        {
            Assert.Ignore("Only a root process hands the data directory over to the postgres user.");
        }

        var closed = Path.Combine(_folder, "closed");
        Directory.CreateDirectory(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        Assert.That(
            async () => await EphemeralPostgresCluster.CreateAsync(Path.Combine(closed, "data")),
            Throws.InvalidOperationException.With.Message.Contains($"cannot enter {closed}").And.Message.Contains($"chmod o+x {closed}"));
    }

    private static async Task<string> QueryAsync(string connectionString, string sql)
    {
        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(unpooled.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
