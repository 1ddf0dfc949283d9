namespace MigrationTasks.Engines;

/// <summary>What the history records about who applied a migration and from which package.</summary>
public sealed record ApplyContext(string AppliedByHost, string? PackageId = null, string? PackageVersion = null)
{
    public static ApplyContext ForThisMachine() => new(Environment.MachineName);
}
