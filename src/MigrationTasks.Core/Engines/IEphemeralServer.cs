namespace MigrationTasks.Engines;

/// <summary>A throwaway local server that an engine starts from binaries on the machine.</summary>
public interface IEphemeralServer : IAsyncDisposable
{
    /// <summary>Opens the named database of the server, creating it first when asked.</summary>
    Task<ITargetDatabase> OpenDatabaseAsync(string name, bool create, CancellationToken cancellationToken);
}
