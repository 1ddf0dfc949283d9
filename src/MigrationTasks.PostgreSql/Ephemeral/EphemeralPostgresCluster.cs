using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Npgsql;

namespace MigrationTasks.PostgreSql.Ephemeral;

/// <summary>
/// A throwaway PostgreSQL server in a folder of its own: superuser "postgres" with trust authentication, reachable
/// only over TCP on 127.0.0.1, fsync off. For the <c>auto</c> dev database and for tests, never for data that matters.
/// </summary>
public sealed class EphemeralPostgresCluster : IAsyncDisposable
{
    private const string SuperUser = "postgres";
    private const string ServerUser = "postgres";
    private const string LogFileName = "server.log";
    private const int StartAttempts = 3;
    private const int LogLinesInErrors = 20;

    // Longer than the 60 s that pg_ctl waits for the server by default, so that its own message comes first.
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);

    // Appended to the postgresql.conf written by initdb. No unix socket: its folder would need to be writable by
    // the server user and its path would clash between clusters; TCP on a free port needs neither.
    private const string Settings = """

        # MigrationTasks: a throwaway cluster, reachable from this machine only.
        listen_addresses = '127.0.0.1'
        unix_socket_directories = ''
        fsync = off

        """;

    private readonly string _binDirectory;
    private bool _running = true;

    private EphemeralPostgresCluster(string binDirectory, string dataDirectory, int port)
    {
        _binDirectory = binDirectory;
        DataDirectory = dataDirectory;
        Port = port;
    }

    public string DataDirectory { get; }

    public int Port { get; }

    // PostgreSQL refuses to run as root, so a root process runs the server programs as the postgres user.
    [UnsupportedOSPlatformGuard("windows")]
    private static bool RunsAsRoot => !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;

    /// <summary>Creates a new cluster in <paramref name="dataDirectory"/> (absent or empty) and starts it.</summary>
    public static async Task<EphemeralPostgresCluster> CreateAsync(string dataDirectory, CancellationToken ct = default)
    {
        var binDirectory = FindBinDirectory();
        dataDirectory = Path.GetFullPath(dataDirectory);
        if (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
        {
            throw new InvalidOperationException($"Cannot create a PostgreSQL cluster in {dataDirectory}: the folder is not empty.");
        }

        Directory.CreateDirectory(dataDirectory);
        if (RunsAsRoot)
        {
            await HandOverToServerUserAsync(dataDirectory, ct);
        }

        var initdb = await RunAsync(
            binDirectory,
            "initdb",
            ["-D", dataDirectory, "-U", SuperUser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            dataDirectory,
            ct);
        ThrowOnFailure($"initdb of {dataDirectory}", initdb);
        await File.AppendAllTextAsync(Path.Combine(dataDirectory, "postgresql.conf"), Settings, ct);
        return await StartServerAsync(binDirectory, dataDirectory, ct);
    }

    /// <summary>
    /// Starts a cluster that <see cref="CreateAsync"/> made earlier, on a new free port. A server still running on
    /// that data (left by a process that was killed before it could stop it) is stopped first: it listens on a port
    /// nobody knows, and may still be running the killed build's statement.
    /// </summary>
    public static async Task<EphemeralPostgresCluster> StartAsync(string dataDirectory, CancellationToken ct = default)
    {
        var binDirectory = FindBinDirectory();
        dataDirectory = Path.GetFullPath(dataDirectory);
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            throw new InvalidOperationException($"{dataDirectory} is not a PostgreSQL data directory (it has no PG_VERSION file).");
        }

        // pg_ctl status: 0 while a server runs on the data directory, 3 when none does.
        if ((await RunAsync(binDirectory, "pg_ctl", ["status", "-D", dataDirectory], dataDirectory, ct)).ExitCode == 0)
        {
            var stop = await RunAsync(binDirectory, "pg_ctl", ["stop", "-w", "-D", dataDirectory, "-m", "fast"], dataDirectory, ct);
            ThrowOnFailure($"pg_ctl stop of the server left running on {dataDirectory}", stop);
        }

        return await StartServerAsync(binDirectory, dataDirectory, ct);
    }

    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = SuperUser, Database = database }
            .ConnectionString;

    public async Task CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        // Unpooled, so that no idle connection to the maintenance database outlives this call.
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString()) { Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(ct);
        var quotedName = "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        await using var command = new NpgsqlCommand($"CREATE DATABASE {quotedName}", connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Stops the server: <paramref name="fast"/> shuts down cleanly, otherwise it is killed (crash recovery on the next start).</summary>
    public async Task StopAsync(bool fast = true)
    {
        if (!_running)
        {
            return;
        }

        var stop = await RunAsync(
            _binDirectory, "pg_ctl", ["stop", "-w", "-D", DataDirectory, "-m", fast ? "fast" : "immediate"], DataDirectory, CancellationToken.None);
        ThrowOnFailure($"pg_ctl stop of {DataDirectory}", stop);
        _running = false;
    }

    public async ValueTask DisposeAsync() => await StopAsync(fast: false);

    private static string FindBinDirectory() =>
        PostgresBinaries.FindBinDirectory()
        ?? throw new InvalidOperationException(
            "PostgreSQL server programs (initdb, pg_ctl) were not found on the PATH, in /usr/lib/postgresql/<version>/bin "
            + "or in /usr/local/pgsql/bin. Install the PostgreSQL server (e.g. apt-get install postgresql) or configure a connection string.");

    private static async Task<EphemeralPostgresCluster> StartServerAsync(string binDirectory, string dataDirectory, CancellationToken ct)
    {
        var logFile = Path.Combine(dataDirectory, LogFileName);
        for (var attempt = 1; ; attempt++)
        {
            var port = FindFreePort();
            var logStart = File.Exists(logFile) ? new FileInfo(logFile).Length : 0;
            var (exitCode, output) = await RunAsync(
                binDirectory,
                "pg_ctl",
                ["start", "-w", "-D", dataDirectory, "-l", logFile, "-o", $"-p {port}"],
                dataDirectory,
                ct);
            if (exitCode == 0)
            {
                return new EphemeralPostgresCluster(binDirectory, dataDirectory, port);
            }

            // Another process may take the port between our probe and the server's bind: then a new port is tried.
            var log = ReadFrom(logFile, logStart);
            if (attempt == StartAttempts || !log.Contains("Address already in use", StringComparison.Ordinal))
            {
                var lastLines = string.Join('\n', log.Split('\n').TakeLast(LogLinesInErrors));
                throw new InvalidOperationException(
                    $"PostgreSQL did not start from {dataDirectory} (pg_ctl exit code {exitCode}): {output}{Environment.NewLine}"
                    + $"Last lines of {logFile}:{Environment.NewLine}{lastLines}");
            }
        }
    }

    private static int FindFreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string ReadFrom(string file, long offset)
    {
        if (!File.Exists(file))
        {
            return "";
        }

        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Trim();
    }

    [UnsupportedOSPlatform("windows")]
    private static async Task HandOverToServerUserAsync(string dataDirectory, CancellationToken ct)
    {
        for (var folder = Path.GetDirectoryName(dataDirectory); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (!await ServerUserCanEnterAsync(folder, ct))
            {
                throw new InvalidOperationException(
                    $"The {ServerUser} user cannot enter {folder}, a parent folder of the data directory {dataDirectory}. "
                    + $"Running as root, the PostgreSQL server runs as {ServerUser} and needs to reach its data: choose a data "
                    + $"directory under a folder it can enter (e.g. {Path.GetTempPath()}) or allow it with chmod o+x {folder}.");
            }
        }

        var chown = await ProcessRunner.RunAsync("chown", [$"{ServerUser}:{ServerUser}", dataDirectory], "/", StepTimeout, ct);
        ThrowOnFailure($"chown of {dataDirectory}", chown);
        File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    // The mode bits answer for nearly every folder; only when they deny "others" does the server user's group or an
    // ACL matter, and then the user itself is asked.
    [UnsupportedOSPlatform("windows")]
    private static async Task<bool> ServerUserCanEnterAsync(string folder, CancellationToken ct) =>
        File.GetUnixFileMode(folder).HasFlag(UnixFileMode.OtherExecute)
        || (await ProcessRunner.RunAsync("runuser", ["-u", ServerUser, "--", "test", "-x", folder], "/", StepTimeout, ct)).ExitCode == 0;

    private static void ThrowOnFailure(string step, (int ExitCode, string Output) result)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{step} failed (exit code {result.ExitCode}): {result.Output}");
        }
    }

    // The data directory is the working directory: the server user can always enter it, which is not true of ours.
    private static Task<(int ExitCode, string Output)> RunAsync(
        string binDirectory, string program, IReadOnlyList<string> arguments, string dataDirectory, CancellationToken ct)
    {
        var path = PostgresBinaries.ProgramPath(binDirectory, program);
        return RunsAsRoot
            ? ProcessRunner.RunAsync("runuser", ["-u", ServerUser, "--", path, .. arguments], dataDirectory, StepTimeout, ct)
            : ProcessRunner.RunAsync(path, arguments, dataDirectory, StepTimeout, ct);
    }
}
