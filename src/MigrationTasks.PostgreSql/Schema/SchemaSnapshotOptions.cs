namespace MigrationTasks.PostgreSql.Schema;

public sealed class SchemaSnapshotOptions
{
    /// <summary>
    /// Schemas left out of the snapshot besides the system ones. By default the tool's own history schema, which
    /// changes with every deployment and so is never part of the expected schema.
    /// </summary>
    public IReadOnlyList<string> ExcludedSchemas { get; init; } = ["migrationtasks"];
}
