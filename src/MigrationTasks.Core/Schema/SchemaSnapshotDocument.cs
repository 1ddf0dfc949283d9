namespace MigrationTasks.Schema;

/// <summary>The JSON form of a <see cref="SchemaSnapshot"/>; the hash is there for people and is checked on reading.</summary>
internal sealed record SchemaSnapshotDocument(string Hash, IReadOnlyList<SchemaObject> Objects);
