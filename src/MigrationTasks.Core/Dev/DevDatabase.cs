using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Dev;

/// <summary>
/// The dev database of a build: the one the connection variable names, or a throwaway local server whose data lives
/// in the project's obj/ folder, so that the test step can reopen what the deploy step built.
/// </summary>
public sealed class DevDatabase : IAsyncDisposable
{
    private const string DatabaseName = "dev";
    private readonly IEphemeralServer? _server;
    private readonly Func<CancellationToken, Task<ITargetDatabase>> _openSession;

    private DevDatabase(ITargetDatabase database, IEphemeralServer? server, bool startedEmpty, Func<CancellationToken, Task<ITargetDatabase>> openSession)
    {
        Database = database;
        _server = server;
        StartedEmpty = startedEmpty;
        _openSession = openSession;
    }

    public ITargetDatabase Database { get; }

    /// <summary>True when the database is a throwaway made empty in this step: it needs every migration.</summary>
    public bool StartedEmpty { get; }

    /// <summary>
    /// Opens the dev database, or returns null after warning MIG1002 (or saying why) when there is none.
    /// <paramref name="fresh"/> asks for a new, empty throwaway server; otherwise the previous step's is reopened.
    /// </summary>
    public static async Task<DevDatabase?> OpenAsync(IMigrationEngine engine, DevLoopOptions options, bool fresh, Reporter reporter, CancellationToken cancellationToken)
    {
        if (options.Mode == DevDatabaseMode.None)
        {
            reporter.Info("MigrationDevDatabase is 'none': no dev deploy and no database tests.");
            return null;
        }

        var connectionString = Environment.GetEnvironmentVariable(options.ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return new DevDatabase(
                await engine.ConnectAsync(connectionString, cancellationToken),
                null,
                startedEmpty: false,
                ct => engine.ConnectAsync(connectionString, ct));
        }

        var dataDirectory = Path.Combine(options.StateDirectory, "devdb");
        // The test step reopens the deploy step's server; if that is gone (obj/ wiped), it starts over.
        fresh = fresh || !Directory.Exists(dataDirectory);
        IEphemeralServer server;
        try
        {
            server = await engine.StartEphemeralServerAsync(dataDirectory, fresh, cancellationToken);
        }
        catch (EphemeralServerUnavailableException e)
        {
            reporter.Report(Diagnostic.Warning(
                DiagnosticCodes.NoDevDatabase,
                $"no dev database: the environment variable {options.ConnectionVariable} is not set and no throwaway {engine.Name} server " +
                $"can be started here ({e.Message}). Dev deploy and database tests are skipped. Set {options.ConnectionVariable} " +
                "to a dev connection string, or set MigrationDevDatabase to 'none' to silence this."));
            return null;
        }

        try
        {
            var database = await server.OpenDatabaseAsync(DatabaseName, create: fresh, cancellationToken);
            reporter.Info($"Dev database: a throwaway {engine.Name} server ({database.DisplayName}), data in {dataDirectory}.");
            return new DevDatabase(database, server, startedEmpty: fresh, ct => server.OpenDatabaseAsync(DatabaseName, create: false, ct));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens another session on the same database as <see cref="Database"/> (the same connection string, or the same
    /// throwaway server), for work beside it such as tests in parallel; the caller disposes it, before this.
    /// </summary>
    public Task<ITargetDatabase> OpenSessionAsync(CancellationToken cancellationToken) => _openSession(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
