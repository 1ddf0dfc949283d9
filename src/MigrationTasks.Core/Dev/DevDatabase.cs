using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Dev;

/// <summary>
/// The dev database of a build: the one the connection variable names (shared: never rebuilt), or the database
/// "dev" of a throwaway local server whose data lives in the project's obj/ folder and survives across builds, so
/// that each build only moves it forward. The same local server keeps the shadow's cached states
/// (<see cref="StateCache"/>), also when the dev database is a shared one: they never clutter a shared server.
/// </summary>
public sealed class DevDatabase : IAsyncDisposable
{
    private const string DatabaseName = "dev";

    private readonly IMigrationEngine _engine;
    private readonly string _dataDirectory;
    private readonly Func<CancellationToken, Task<ITargetDatabase>> _openSession;

    private DevDatabase(
        IMigrationEngine engine, string dataDirectory, ITargetDatabase database, IEphemeralServer? localServer, bool isThrowaway, Func<CancellationToken, Task<ITargetDatabase>> openSession)
    {
        _engine = engine;
        _dataDirectory = dataDirectory;
        Database = database;
        LocalServer = localServer;
        IsThrowaway = isThrowaway;
        _openSession = openSession;
    }

    public ITargetDatabase Database { get; private set; }

    /// <summary>
    /// The throwaway local server holding the cached states (and the throwaway dev database); beside a shared dev
    /// database, null until <see cref="StartLocalServerAsync"/>.
    /// </summary>
    public IEphemeralServer? LocalServer { get; private set; }

    /// <summary>True when the dev database is the throwaway one, which the build may reset; false for the variable's.</summary>
    public bool IsThrowaway { get; }

    /// <summary>Opens the dev database, or returns null after warning MIG1002 (or saying why) when there is none.</summary>
    public static async Task<DevDatabase?> OpenAsync(IMigrationEngine engine, DevLoopOptions options, Reporter reporter, CancellationToken cancellationToken)
    {
        if (options.Mode == DevDatabaseMode.None)
        {
            reporter.Info("MigrationDevDatabase is 'none': no dev deploy and no database tests.");
            return null;
        }

        var dataDirectory = Path.Combine(options.StateDirectory, "devdb");
        var connectionString = Environment.GetEnvironmentVariable(options.ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return new DevDatabase(
                engine, dataDirectory, await engine.ConnectAsync(connectionString, cancellationToken), null, isThrowaway: false, ct => engine.ConnectAsync(connectionString, ct));
        }

        var (local, unavailable) = await TryStartLocalServerAsync(engine, dataDirectory, reporter, cancellationToken);
        if (local is null)
        {
            reporter.Report(Diagnostic.Warning(
                DiagnosticCodes.NoDevDatabase,
                $"no dev database: the environment variable {options.ConnectionVariable} is not set and no throwaway {engine.Name} server " +
                $"can be started here ({unavailable}). Dev deploy and database tests are skipped. Set {options.ConnectionVariable} " +
                "to a dev connection string, or set MigrationDevDatabase to 'none' to silence this."));
            return null;
        }

        try
        {
            var database = await local.OpenDatabaseAsync(DatabaseName, create: true, cancellationToken);
            reporter.Info($"Dev database: a throwaway {engine.Name} server ({database.DisplayName}), data in {dataDirectory}.");
            return new DevDatabase(engine, dataDirectory, database, local, isThrowaway: true, ct => local.OpenDatabaseAsync(DatabaseName, create: false, ct));
        }
        catch
        {
            await local.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Replaces the throwaway dev database with a copy of a cached state (its history, a prefix of the project's):
    /// cheaper than applying those migrations again, and the way back when dev's history stopped being a prefix.
    /// </summary>
    public async Task ResetFromAsync(string state, CancellationToken cancellationToken)
    {
        if (!IsThrowaway || LocalServer is null)
        {
            throw new InvalidOperationException("Only the throwaway dev database is ever reset.");
        }

        await Database.DisposeAsync();
        await LocalServer.DropDatabaseAsync(DatabaseName, cancellationToken);
        await LocalServer.CopyDatabaseAsync(state, DatabaseName, cancellationToken);
        Database = await LocalServer.OpenDatabaseAsync(DatabaseName, create: false, cancellationToken);
    }

    /// <summary>
    /// Opens another session on the same database as <see cref="Database"/> (the same connection string, or the same
    /// throwaway server), for work beside it such as tests in parallel; the caller disposes it, before this.
    /// </summary>
    public Task<ITargetDatabase> OpenSessionAsync(CancellationToken cancellationToken) => _openSession(cancellationToken);

    /// <summary>The local server for the cached states beside a shared dev database, or null when none can run here.</summary>
    public async Task<IEphemeralServer?> StartLocalServerAsync(Reporter reporter, CancellationToken cancellationToken) =>
        LocalServer ??= (await TryStartLocalServerAsync(_engine, _dataDirectory, reporter, cancellationToken)).Server;

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        if (LocalServer is not null)
        {
            await LocalServer.DisposeAsync();
        }
    }

    /// <summary>
    /// The server a previous build left in <paramref name="dataDirectory"/>, else a new one there (its data is only
    /// a cache: a folder that no longer starts, say after a server upgrade, is started over), else the reason none runs.
    /// </summary>
    private static async Task<(IEphemeralServer? Server, string? Unavailable)> TryStartLocalServerAsync(
        IMigrationEngine engine, string dataDirectory, Reporter reporter, CancellationToken cancellationToken)
    {
        // One build of the project at a time uses its server (the IDE's and a terminal's would stop, rename and drop
        // each other's work); released when the server stops, or by the system when the process is killed.
        var exclusive = await StateDirectoryLock.AcquireAsync(Path.GetDirectoryName(Path.GetFullPath(dataDirectory))!, cancellationToken);
        try
        {
            var server = await StartAsync(engine, dataDirectory, reporter, cancellationToken);
            return (new LockedServer(server, exclusive), null);
        }
        catch (EphemeralServerUnavailableException e)
        {
            exclusive.Dispose();
            return (null, e.Message);
        }
        catch
        {
            exclusive.Dispose();
            throw;
        }
    }

    private static async Task<IEphemeralServer> StartAsync(IMigrationEngine engine, string dataDirectory, Reporter reporter, CancellationToken cancellationToken)
    {
        if (Directory.Exists(dataDirectory))
        {
            try
            {
                return await engine.StartEphemeralServerAsync(dataDirectory, fresh: false, cancellationToken);
            }
            catch (EphemeralServerUnavailableException e)
            {
                reporter.Info($"The throwaway server in {dataDirectory} did not start ({e.Message}); a new one is made there.");
            }
        }

        return await engine.StartEphemeralServerAsync(dataDirectory, fresh: true, cancellationToken);
    }

    /// <summary>The local server, holding the state folder's lock until it is stopped.</summary>
    private sealed class LockedServer(IEphemeralServer server, IDisposable exclusive) : IEphemeralServer
    {
        public string Version => server.Version;

        public Task<ITargetDatabase> OpenDatabaseAsync(string name, bool create, CancellationToken cancellationToken) => server.OpenDatabaseAsync(name, create, cancellationToken);

        public Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken) => server.ListDatabasesAsync(cancellationToken);

        public Task CopyDatabaseAsync(string source, string target, CancellationToken cancellationToken) => server.CopyDatabaseAsync(source, target, cancellationToken);

        public Task RenameDatabaseAsync(string name, string newName, CancellationToken cancellationToken) => server.RenameDatabaseAsync(name, newName, cancellationToken);

        public Task DropDatabaseAsync(string name, CancellationToken cancellationToken) => server.DropDatabaseAsync(name, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            try
            {
                await server.DisposeAsync();
            }
            finally
            {
                exclusive.Dispose();
            }
        }
    }
}
