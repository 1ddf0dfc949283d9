namespace MigrationTasks.Engines;

/// <summary>No throwaway server can be started here; the message says why (e.g. no server binaries).</summary>
public sealed class EphemeralServerUnavailableException(string reason) : Exception(reason);
