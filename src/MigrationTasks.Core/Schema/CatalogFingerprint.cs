namespace MigrationTasks.Schema;

/// <summary>
/// A coarse fingerprint of a schema that is the same whether it is read from a live catalog or from a model offline
/// (SQL Server: a dacpac): the SHA-256 of the sorted lines "kind name" of its schemas, tables, columns, views,
/// procedures, functions, triggers, sequences and types. Names only, no definitions: the server rewrites defaults,
/// checks and module text, so definitions read live never equal the ones a model holds. It catches an object added,
/// dropped or renamed outside the release; a changed definition is the full snapshot's job.
/// </summary>
public static class CatalogFingerprint
{
    /// <summary>The kinds the fingerprint covers, as a schema snapshot names them.</summary>
    public static readonly IReadOnlySet<string> Kinds = new HashSet<string>(StringComparer.Ordinal)
    {
        "schema", "table", "column", "view", "procedure", "function", "trigger", "sequence", "type",
    };

    /// <summary>The fingerprint of (kind, name) pairs; other kinds are ignored.</summary>
    public static string Of(IEnumerable<(string Kind, string Name)> objects) =>
        Common.Sha256.Hex(string.Concat(objects
            .Where(o => Kinds.Contains(o.Kind))
            .Select(o => $"{o.Kind} {o.Name}\n")
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)));

    /// <summary>The fingerprint of a snapshot read from a live database.</summary>
    public static string Of(SchemaSnapshot snapshot) => Of(snapshot.Objects.Select(o => (o.Kind, o.Name)));
}
