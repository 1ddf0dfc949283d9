namespace MigrationTasks.Schema;

public enum SchemaChange
{
    /// <summary>Expected, but not in the actual schema.</summary>
    Missing,

    /// <summary>In the actual schema, but not expected.</summary>
    Unexpected,

    /// <summary>In both, with different definitions.</summary>
    Changed,
}
