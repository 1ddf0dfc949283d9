using System.Text;
using System.Text.Json.Nodes;
using MigrationTasks.Common;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>
/// A real manifest.json with one to four random changes, as bytes: fields deleted, duplicated or of another type,
/// huge numbers, deep nesting, very long strings, hostile paths (.., absolute, backslashes, NUL and control
/// characters, look-alikes of '.' and '/', other case and other Unicode normalisation of a listed path, the traps of
/// <see cref="HostilePackage"/>), and byte-level damage such as invalid UTF-8 and truncation.
/// </summary>
internal sealed class ManifestMutations
{
    // Substituted for the placeholder after serialization: JsonNode cannot hold nesting this deep.
    private const string DeepPlaceholder = "@@deep@@";

    private readonly string _json;
    private readonly string[] _paths;
    private readonly string[] _hashes;

    public ManifestMutations(HostilePackage package)
    {
        _json = package.ManifestJson;
        var longSegment = new string('a', 300);
        _paths =
        [
            "..", "../secret.txt", "../../secret.txt", "../../../secret.txt", "../fifo", "../../fifo", "migrations/../../../secret.txt",
            "migrations/../../fifo", "loop/../../secret.txt", "runtimes/../../secret.txt", package.SecretPath, package.FifoPath ?? "/dev/null",
            "/etc/passwd", "/", "//secret.txt", "C:\\Windows\\win.ini", "C:/secret.txt", "c:secret.txt", "\\\\server\\share\\x",
            "migrations\\V1__create.sql", "..\\..\\secret.txt", "plan.md\0.sql", "a\0b", "\u0001plan.md", "plan.md\n", "plan.md\r", "\tplan.md",
            " plan.md", "plan.md ", "plan.md.", "./plan.md", "migrations//V1__create.sql", "migrations/./V1__create.sql", "", " ", ".", "~/x",
            "$HOME/x", "%2e%2e/secret.txt", "\u2024\u2024/secret.txt", "..\u2215secret.txt", "migrations\u2215V1__create.sql",
            "migrations\uff0fV1__create.sql", "\uff0e\uff0e/secret.txt", "MIGRATIONS/V1__create.sql", "Plan.md", "PLAN.MD", "caf\u00e9.sql",
            "cafe\u0301.sql", "plan\u200b.md", "\ufeffplan.md", "plan.md\ud800", "link-to-secret", "link-to-fifo", "fifo-inside", "loop/plan.md",
            "loop/loop/release/plan.md", "migrations/up/secret.txt", "migrations/up/fifo", "release/plan.md", "Release/plan.md",
            "release/../release/plan.md", "link-out", "fifo-beside", "migrate.dll", "Migrate.DLL", "runtimes", longSegment,
            string.Join('/', Enumerable.Repeat("a", 2_000)) + "/x", new string('/', 5_000), "plan.md/", "plan.md/..",
        ];
        _hashes =
        [
            Sha256.Hex(Encoding.UTF8.GetBytes(package.Sentinel)), Sha256.Hex([]), Sha256.Hex([]).ToUpperInvariant(), "", "zz",
            new string('g', 64), new string('0', 65), new string('a', 100_000), "\0", "0x" + Sha256.Hex([]),
        ];
    }

    public byte[] Mutate(Random random)
    {
        var manifest = JsonNode.Parse(_json)!;
        var changes = random.Next(1, 5);
        var textChanges = new List<Func<byte[], byte[]>>();
        for (var i = 0; i < changes; i++)
        {
            switch (random.Next(12))
            {
                case 0:
                    DeleteProperty(random, manifest);
                    break;
                case 1:
                    Replace(random, manifest, OtherValue(random));
                    break;
                case 2 or 3 or 4:
                    SetPath(random, manifest, _paths[random.Next(_paths.Length)]);
                    break;
                case 5:
                    SetField(random, manifest, "sha256", _hashes[random.Next(_hashes.Length)]);
                    break;
                case 6:
                    SetField(random, manifest, "role", random.Next(3) switch { 0 => 0, 1 => "Migration", _ => "baseline " });
                    break;
                case 7:
                    AddEntry(random, manifest);
                    break;
                case 8:
                    textChanges.Add(bytes => DuplicateKey(random, bytes));
                    break;
                default:
                    textChanges.Add(bytes => DamageBytes(random, bytes));
                    break;
            }
        }

        var text = manifest.ToJsonString();
        var deep = random.Next(5) switch { 0 => 63, 1 => 64, 2 => 65, 3 => 1_000, _ => 100_000 };
        var result = Encoding.UTF8.GetBytes(text.Replace($"\"{DeepPlaceholder}\"", new string('[', deep) + new string(']', deep), StringComparison.Ordinal));
        return textChanges.Aggregate(result, (bytes, change) => change(bytes));
    }

    private static JsonNode? OtherValue(Random random) => random.Next(14) switch
    {
        0 => 0,
        1 => -1,
        2 => 2_147_483_648L,
        3 => JsonNode.Parse("1e400"),
        4 => JsonNode.Parse("99999999999999999999999999999"),
        5 => 1.5,
        6 => "",
        7 => new string('x', 100_000),
        8 => true,
        9 => null,
        10 => new JsonArray(),
        11 => new JsonObject(),
        12 => new JsonArray(null, null),
        _ => DeepPlaceholder,
    };

    private static List<JsonNode> Containers(JsonNode root)
    {
        var found = new List<JsonNode>();
        var pending = new Stack<JsonNode>([root]);
        while (pending.TryPop(out var node))
        {
            found.Add(node);
            var children = node switch
            {
                JsonObject o => o.Select(p => p.Value),
                JsonArray a => a.AsEnumerable(),
                _ => [],
            };
            foreach (var child in children.OfType<JsonNode>().Where(c => c is JsonObject or JsonArray))
            {
                pending.Push(child);
            }
        }

        return found;
    }

    private static void DeleteProperty(Random random, JsonNode root)
    {
        var objects = Containers(root).OfType<JsonObject>().Where(o => o.Count > 0).ToList();
        if (objects.Count > 0)
        {
            var target = objects[random.Next(objects.Count)];
            target.Remove(target.ElementAt(random.Next(target.Count)).Key);
        }
    }

    private static void Replace(Random random, JsonNode root, JsonNode? value)
    {
        var containers = Containers(root).Where(c => c is JsonObject { Count: > 0 } or JsonArray { Count: > 0 }).ToList();
        switch (containers[random.Next(containers.Count)])
        {
            case JsonObject o:
                o[o.ElementAt(random.Next(o.Count)).Key] = value;
                break;
            case JsonArray a:
                a[random.Next(a.Count)] = value;
                break;
        }
    }

    /// <summary>A path of a listed file, beside release/ or the baseline's name.</summary>
    private static void SetPath(Random random, JsonNode root, string path)
    {
        if (random.Next(6) == 0 && root["expectedPreState"] is JsonObject preState)
        {
            preState["baselineFile"] = path;
            return;
        }

        SetField(random, root, "path", path);
    }

    private static void SetField(Random random, JsonNode root, string field, JsonNode? value)
    {
        var entries = Entries(root);
        if (entries.Count > 0)
        {
            entries[random.Next(entries.Count)][field] = value;
        }
    }

    /// <summary>A copy of a listed entry, often its path spelt another way, in its list or the other one.</summary>
    private void AddEntry(Random random, JsonNode root)
    {
        var entries = Entries(root);
        if (entries.Count == 0)
        {
            return;
        }

        var copy = entries[random.Next(entries.Count)].DeepClone().AsObject();
        if (copy["path"]?.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var path = (string)copy["path"]!;
            copy["path"] = random.Next(4) switch
            {
                0 => path.ToUpperInvariant(),
                // Normalize refuses a lone surrogate, which some hostile paths hold.
                1 => path.Any(char.IsSurrogate) ? path : path.Normalize(NormalizationForm.FormD),
                2 => _paths[random.Next(_paths.Length)],
                _ => path,
            };
        }

        var list = root[random.Next(2) == 0 ? "files" : "packageFiles"] as JsonArray;
        list?.Add(copy);
    }

    private static List<JsonObject> Entries(JsonNode root) =>
        [.. new[] { "files", "packageFiles" }.SelectMany(list => (root[list] as JsonArray)?.OfType<JsonObject>() ?? [])];

    /// <summary>A second value for a key of the text, before the first: which one wins is the reader's choice.</summary>
    private byte[] DuplicateKey(Random random, byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var key = random.Next(3) switch { 0 => "\"path\":", 1 => "\"schemaVersion\":", _ => "\"files\":" };
        var at = text.IndexOf(key, StringComparison.Ordinal);
        if (at < 0)
        {
            return bytes;
        }

        var value = key == "\"files\":" ? "[]" : key == "\"path\":" ? System.Text.Json.JsonSerializer.Serialize(_paths[random.Next(_paths.Length)]) : "1";
        return Encoding.UTF8.GetBytes(text.Insert(at, key + value + ","));
    }

    /// <summary>Invalid UTF-8, a BOM, NUL, a flipped bit, or the end cut off.</summary>
    private static byte[] DamageBytes(Random random, byte[] bytes)
    {
        var at = random.Next(bytes.Length + 1);
        byte[][] insertions = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xef, 0xbb, 0xbf], [0x00], [0xf4, 0x90, 0x80, 0x80]];
        switch (random.Next(4))
        {
            case 0:
                return [.. bytes[..at], .. insertions[random.Next(insertions.Length)], .. bytes[at..]];
            case 1 when bytes.Length > 0:
                var flipped = bytes.ToArray();
                flipped[Math.Min(at, bytes.Length - 1)] ^= (byte)(1 << random.Next(8));
                return flipped;
            case 2:
                return bytes[..at];
            default:
                return [0xef, 0xbb, 0xbf, .. bytes];
        }
    }
}
