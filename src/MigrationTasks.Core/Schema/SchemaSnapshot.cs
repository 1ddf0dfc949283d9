using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MigrationTasks.Schema;

/// <summary>
/// The objects of a database schema in a canonical, server-independent form, sorted by name and kind, with a
/// SHA-256 hash of its canonical text: equal schemas have equal hashes.
/// </summary>
public sealed class SchemaSnapshot
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        // Definitions are full of quotes and operators; snapshot files are read by people, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly string _canonicalText;

    public SchemaSnapshot(IEnumerable<SchemaObject> objects)
    {
        var sorted = objects
            .OrderBy(item => item.Name, StringComparer.Ordinal)
            .ThenBy(item => item.Kind, StringComparer.Ordinal)
            .ToArray();
        // Kind and name identify an object: comparing snapshots relies on it.
        var duplicate = sorted.GroupBy(item => (item.Kind, item.Name)).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The snapshot lists {duplicate.Key.Kind} {duplicate.Key.Name} twice.", nameof(objects));
        }

        Objects = Array.AsReadOnly(sorted);
        _canonicalText = string.Concat(sorted.Select(item => $"{Escape(item.Kind)}\t{Escape(item.Name)}\t{Escape(item.Definition)}\n"));
        Hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(_canonicalText))).ToLowerInvariant();
    }

    public IReadOnlyList<SchemaObject> Objects { get; }

    /// <summary>SHA-256 of <see cref="ToCanonicalText"/>, lowercase hex.</summary>
    public string Hash { get; }

    public static SchemaSnapshot FromJson(string json)
    {
        var document = JsonSerializer.Deserialize<SchemaSnapshotDocument>(json, JsonOptions);
        if (document?.Objects is null || document.Objects.Any(item => item?.Kind is null || item.Name is null || item.Definition is null))
        {
            throw new InvalidDataException("The JSON is not a schema snapshot: it needs objects, each with a kind, a name and a definition.");
        }

        var snapshot = new SchemaSnapshot(document.Objects);
        if (snapshot.Hash != document.Hash)
        {
            throw new InvalidDataException($"The schema snapshot's hash {document.Hash} does not match its objects, whose hash is {snapshot.Hash}.");
        }

        return snapshot;
    }

    /// <summary>One line per object: kind, name and definition separated by tabs, line breaks in definitions escaped.</summary>
    public string ToCanonicalText() => _canonicalText;

    public string ToJson() => JsonSerializer.Serialize(new SchemaSnapshotDocument(Hash, Objects), JsonOptions);

    // Escaping the escape character first keeps the text unambiguous, so different snapshots never share a hash.
    private static string Escape(string value) => value
        .Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\t", "\\t", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal)
        .Replace("\r", "\\r", StringComparison.Ordinal);
}
