namespace MigrationTasks.Engines;

/// <summary>
/// An empty database to build an expected state in: beside the given database on its own server when that server
/// allows (same version, same extensions), else in a throwaway local server. Disposing it drops it.
/// </summary>
public sealed class Shadow : IAsyncDisposable
{
    private readonly IEphemeralServer? _server;

    private Shadow(ITargetDatabase database, IEphemeralServer? server)
    {
        Database = database;
        _server = server;
    }

    public ITargetDatabase Database { get; }

    /// <summary>Opens a shadow, or returns the reason there can be none.</summary>
    public static async Task<(Shadow? Shadow, string? Reason)> TryOpenAsync(
        IMigrationEngine engine, ITargetDatabase beside, string dataDirectory, CancellationToken cancellationToken)
    {
        var (database, refusal) = await beside.TryCreateShadowAsync(cancellationToken);
        if (database is not null)
        {
            return (new Shadow(database, null), null);
        }

        IEphemeralServer server;
        try
        {
            server = await engine.StartEphemeralServerAsync(dataDirectory, fresh: true, cancellationToken);
        }
        catch (EphemeralServerUnavailableException e)
        {
            return (null, $"{beside.DisplayName} refused to create a shadow database ({refusal}) and no throwaway server can be started here ({e.Message})");
        }

        try
        {
            return (new Shadow(await server.OpenDatabaseAsync("shadow", create: true, cancellationToken), server), null);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
