namespace MigrationTasks.Dev;

/// <summary>The <c>MigrationDevDatabase</c> property.</summary>
public enum DevDatabaseMode
{
    /// <summary>The connection variable when set, else a throwaway local server, else skip with MIG1002.</summary>
    Auto,

    /// <summary>Never deploy at build.</summary>
    None,
}
