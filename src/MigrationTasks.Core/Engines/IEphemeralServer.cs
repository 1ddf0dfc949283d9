namespace MigrationTasks.Engines;

/// <summary>
/// A throwaway local server that an engine starts from binaries on the machine. Besides the dev database it keeps
/// the dev loop's cached states (<see cref="Dev.StateCache"/>) as databases of their own, which it can copy, rename
/// and drop cheaply.
/// </summary>
public interface IEphemeralServer : IAsyncDisposable
{
    /// <summary>The server's version: a state built on one version is not reused on another.</summary>
    string Version { get; }

    /// <summary>Opens the named database of the server, creating it first when asked and it does not exist yet.</summary>
    Task<ITargetDatabase> OpenDatabaseAsync(string name, bool create, CancellationToken cancellationToken);

    /// <summary>The names of the server's databases, the server's own (e.g. templates) left out.</summary>
    Task<IReadOnlyList<string>> ListDatabasesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates <paramref name="target"/> as an exact copy of <paramref name="source"/> (schema, data, history), by
    /// copying its files: no session may be connected to the source meanwhile.
    /// </summary>
    Task CopyDatabaseAsync(string source, string target, CancellationToken cancellationToken);

    /// <summary>Renames a database no session is connected to.</summary>
    Task RenameDatabaseAsync(string name, string newName, CancellationToken cancellationToken);

    /// <summary>Drops a database if it exists, ending the sessions connected to it.</summary>
    Task DropDatabaseAsync(string name, CancellationToken cancellationToken);
}
