namespace MigrationTasks.Schema;

/// <summary>One object that differs between an expected and an actual schema snapshot.</summary>
public sealed record SchemaDifference(string Kind, string Name, SchemaChange Change, string? ExpectedDefinition, string? ActualDefinition)
{
    public override string ToString() => Change switch
    {
        SchemaChange.Missing => $"missing {Kind} {Name}{Quoted(": expected ", ExpectedDefinition)}",
        SchemaChange.Unexpected => $"unexpected {Kind} {Name}{Quoted(": found ", ActualDefinition)}",
        _ => $"changed {Kind} {Name}: expected \"{ExpectedDefinition}\", found \"{ActualDefinition}\"",
    };

    // Objects such as schemas and plain tables have an empty definition, which says nothing when quoted.
    private static string Quoted(string label, string? definition) =>
        string.IsNullOrEmpty(definition) ? "" : $"{label}\"{definition}\"";
}
