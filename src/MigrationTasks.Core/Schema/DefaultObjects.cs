namespace MigrationTasks.Schema;

/// <summary>
/// The objects a database has the moment it is created (PostgreSQL's <c>public</c> schema and <c>plpgsql</c>
/// extension): a snapshot holding only these is an empty database.
/// </summary>
public static class DefaultObjects
{
    public static bool IsDefault(SchemaObject item) =>
        (item.Kind == "schema" && item.Name == "public") || (item.Kind == "extension" && item.Name == "plpgsql");

    public static bool IsEmpty(SchemaSnapshot snapshot) => snapshot.Objects.All(IsDefault);
}
