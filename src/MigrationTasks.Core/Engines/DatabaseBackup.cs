using System.Globalization;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using MigrationTasks.Schema;

namespace MigrationTasks.Engines;

/// <summary>
/// A backup a deploy took: the dump file plus a metadata file <c>&lt;Id&gt;.json</c> beside it in the backup directory.
/// </summary>
/// <param name="Database">Display name (server and database), never credentials.</param>
/// <param name="SchemaHash">The <see cref="SchemaSnapshot"/> hash at backup time; a restore must bring it back.</param>
/// <param name="Proof">How the dump was shown to be readable, e.g. "pg_restore --list read 57 entries".</param>
public sealed partial record DatabaseBackup(
    string Id,
    string DumpPath,
    long Bytes,
    string Database,
    string SchemaHash,
    DateTimeOffset TakenAt,
    TimeSpan Duration,
    string Proof)
{
    private const int MetadataVersion = 1;
    private const string MetadataExtension = ".json";
    private const int BackupsListed = 10;
    private const int DifferencesShown = 20;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>SHA-256 of the dump file, lowercase hex: a restore refuses a dump that changed since.</summary>
    public string DumpSha256 { get; init; } = "";

    /// <summary>
    /// The engine that took it (<see cref="IMigrationEngine.Name"/>), so that <c>migrate restore</c> needs no
    /// <c>--engine</c>; empty in metadata written before the engine was recorded.
    /// </summary>
    public string Engine { get; init; } = "";

    /// <summary>What wrote the dump, e.g. "pg_dump custom format (pg_dump (PostgreSQL) 15.18)".</summary>
    public string Format { get; init; } = "";

    /// <summary>The schema at backup time, so that a restore that misses it can name the differences.</summary>
    public SchemaSnapshot? Schema { get; init; }

    /// <summary>Rows and content hash of every table at backup time, in the dump's own snapshot.</summary>
    public IReadOnlyList<TableFingerprint> Tables { get; init; } = [];

    /// <summary>
    /// Every table's write counters just before the backup (PostgreSQL: pg_stat_user_tables): a restore compares them
    /// with the counters then, less the deploy's own writes, to learn whether other sessions wrote since. Null when the
    /// engine keeps none (a restore then cannot tell, and says so).
    /// </summary>
    public IReadOnlyList<TableWriteCounter>? WriteCounters { get; init; }

    /// <summary>
    /// What a restore of this backup is proven by, in words: always the schema; the rows when the engine counted
    /// them at backup (PostgreSQL), their contents too when it hashed them (--hash-rows). A SQL Server backup records
    /// the schema only: its CHECKSUM protects the file, not the table contents.
    /// </summary>
    public string RestoreProof => Tables.Count == 0
        ? "schema proven equal"
        : Tables.Any(t => t.ContentHash.Length > 0)
            ? "schema and every table's rows and contents proven equal"
            : "schema and every table's row count proven equal";

    /// <summary>The command that restores this backup by hand, for reports and messages.</summary>
    public string RestoreCommand(bool discardLaterWrites = false) =>
        RestoreCommandFor(Engine, Path.GetDirectoryName(DumpPath) ?? ".", Id, discardLaterWrites);

    /// <summary>
    /// <c>dotnet migrate.dll restore --engine … --backup-dir … --backup …</c>, with the engine spelt out so that the
    /// command works as printed whatever the runner's default engine; a folder holding spaces is quoted.
    /// </summary>
    public static string RestoreCommandFor(string engine, string backupDirectory, string id, bool discardLaterWrites = false) =>
        $"dotnet migrate.dll restore --engine {(engine.Length == 0 ? "ENGINE" : engine)} --connection-variable VAR " +
        $"--backup-dir {(backupDirectory.Any(char.IsWhiteSpace) ? $"\"{backupDirectory}\"" : backupDirectory)} --backup {id}" +
        (discardLaterWrites ? " --discard-later-writes" : "");

    /// <summary>This backup, with <paramref name="engine"/> as its engine when its metadata did not record one.</summary>
    public DatabaseBackup TakenBy(string engine) => Engine.Length > 0 ? this : this with { Engine = engine };

    /// <summary>A new id: <c>&lt;database&gt;-&lt;yyyyMMddTHHmmssZ&gt;-&lt;random&gt;</c>, safe as a file name everywhere.</summary>
    public static string NewId(string databaseName, DateTimeOffset takenAt)
    {
        var name = UnsafeIdCharacters().Replace(databaseName, "_").Trim('.');
        name = name.Length == 0 ? "database" : name[..Math.Min(name.Length, 40)];
        var random = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        return $"{name}-{takenAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{random}";
    }

    /// <summary>Where the dump of a backup with this id goes.</summary>
    public static string DumpPathFor(string backupDirectory, string id, string extension) =>
        Path.Combine(Path.GetFullPath(backupDirectory), id + extension);

    /// <summary>
    /// Creates the backup folder when needed and proves it can be written by writing and deleting a probe file:
    /// a deploy must learn that it cannot back up before it dumps anything, let alone migrates. MIG6001 otherwise.
    /// </summary>
    public static string PrepareDirectory(string backupDirectory)
    {
        string folder;
        try
        {
            folder = Path.GetFullPath(backupDirectory);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw NotWritable(backupDirectory, e.Message);
        }

        try
        {
            if (!Directory.Exists(folder))
            {
                Directory.CreateDirectory(folder);
                // A backup holds every row of production: only the deploying user may read it.
                KeepPrivate(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var probe = Path.Combine(folder, $".migrationtasks-probe-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw NotWritable(folder, e.Message);
        }
    }

    /// <summary>Writes <c>&lt;Id&gt;.json</c> beside the dump (to a temporary name first, so it is whole or absent).</summary>
    public void Save(string backupDirectory)
    {
        var document = new Document(
            MetadataVersion,
            Id,
            Path.GetFileName(DumpPath),
            Bytes,
            DumpSha256,
            Format,
            Database,
            SchemaHash,
            TakenAt,
            Duration.TotalSeconds,
            Proof,
            Tables,
            Schema?.Objects,
            WriteCounters,
            Engine.Length == 0 ? null : Engine);
        var path = MetadataPath(backupDirectory, Id);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(document, Json));
        KeepPrivate(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Creates a new file that only its owner can read and write from the moment it exists (the mode is given to
    /// open(2), not set afterwards), so no one can open it while a dump is written into it. Fails if it exists.
    /// </summary>
    public static FileStream CreatePrivateFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }

    /// <summary>Owner-only permissions where the file system has them (not on Windows, where ACLs of the folder apply).</summary>
    public static void KeepPrivate(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Reads the backup with this id from the folder; MIG6007 when it is missing, unreadable or its dump is gone.</summary>
    public static DatabaseBackup Load(string backupDirectory, string id)
    {
        if (!ValidId().IsMatch(id) || id.Contains("..", StringComparison.Ordinal))
        {
            throw Unavailable($"'{id}' is not a backup id (ids look like shop-20261125T101500Z-1a2b3c). {Listing(backupDirectory)}");
        }

        var path = MetadataPath(backupDirectory, id);
        if (!File.Exists(path))
        {
            throw Unavailable($"there is no backup {id}: {path} does not exist. {Listing(backupDirectory)}");
        }

        Document? document;
        try
        {
            document = JsonSerializer.Deserialize<Document>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            throw Unavailable($"the backup metadata {path} cannot be read: {e.Message}");
        }

        if (document is null || document.Id != id || string.IsNullOrEmpty(document.DumpFile) || Path.GetFileName(document.DumpFile) != document.DumpFile
            || document.Database is null || document.SchemaHash is null || document.Proof is null)
        {
            throw Unavailable($"{path} is not the metadata of backup {id}: it lacks its id, dump file, database or schema hash.");
        }

        // The dump is found beside the metadata, wherever the folder was moved to since.
        var dumpPath = Path.Combine(Path.GetDirectoryName(path)!, document.DumpFile);
        var bytes = File.Exists(dumpPath) ? new FileInfo(dumpPath).Length : -1;
        if (bytes != document.Bytes)
        {
            throw Unavailable(bytes < 0
                ? $"the dump of backup {id}, {dumpPath}, does not exist."
                : $"the dump of backup {id}, {dumpPath}, has {bytes} bytes but had {document.Bytes} when it was taken: it was changed or truncated.");
        }

        SchemaSnapshot? schema = null;
        if (document.Schema is not null)
        {
            schema = new SchemaSnapshot(document.Schema);
            if (schema.Hash != document.SchemaHash)
            {
                throw Unavailable($"{path} is damaged: its schema objects do not have its schema hash {document.SchemaHash}.");
            }
        }

        return new DatabaseBackup(id, dumpPath, document.Bytes, document.Database, document.SchemaHash, document.TakenAt, TimeSpan.FromSeconds(document.DurationSeconds), document.Proof)
        {
            DumpSha256 = document.DumpSha256 ?? "",
            Engine = document.Engine ?? "",
            Format = document.Format ?? "",
            Schema = schema,
            Tables = document.Tables ?? [],
            WriteCounters = document.WriteCounters,
        };
    }

    /// <summary>Checks that the dump still has the bytes it was written with (MIG6007 otherwise), before a restore uses it.</summary>
    public async Task VerifyDumpAsync(CancellationToken cancellationToken)
    {
        string actual;
        try
        {
            actual = await HashFileAsync(DumpPath, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"the dump of backup {Id}, {DumpPath}, cannot be read: {e.Message}");
        }

        if (DumpSha256.Length > 0 && actual != DumpSha256)
        {
            throw Unavailable($"the dump of backup {Id}, {DumpPath}, changed since it was taken (SHA-256 {actual}, recorded {DumpSha256}). Nothing was restored.");
        }
    }

    /// <summary>
    /// MIG6004 when a restore brought back another schema than this backup recorded, naming the first differences
    /// (the snapshots' when the backup kept its own, else the hashes); null when the schema is the recorded one.
    /// </summary>
    public DiagnosticException? SchemaNotRestored(SchemaSnapshot restored, string displayName)
    {
        if (restored.Hash == SchemaHash)
        {
            return null;
        }

        var differences = Schema is null
            ? [$"schema hash {restored.Hash}, the backup had {SchemaHash}"]
            : SchemaDiff.Compare(Schema, restored).Select(d => d.ToString()).ToList();
        var shown = string.Join("; ", differences.Take(DifferencesShown)) + (differences.Count > DifferencesShown ? $"; … and {differences.Count - DifferencesShown} more" : "");
        return new DiagnosticException(Diagnostic.Error(
            DiagnosticCodes.RestoreNotVerified,
            $"backup {Id} was restored into {displayName}, but its schema is not what the backup recorded ({differences.Count} difference(s)): {shown}. " +
            "The restore is committed. Compare the database with the backup by hand before letting traffic in."));
    }

    /// <summary>SHA-256 of a file, lowercase hex.</summary>
    public static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexString(await SHA256.HashDataAsync(stream, cancellationToken)).ToLowerInvariant();
    }

    private static string MetadataPath(string backupDirectory, string id) =>
        Path.Combine(Path.GetFullPath(backupDirectory), id + MetadataExtension);

    private static string Listing(string backupDirectory)
    {
        var ids = Directory.Exists(backupDirectory)
            ? Directory.EnumerateFiles(backupDirectory, "*" + MetadataExtension)
                .Select(Path.GetFileNameWithoutExtension)
                .OfType<string>()
                .Where(name => ValidId().IsMatch(name))
                .OrderByDescending(name => File.GetLastWriteTimeUtc(Path.Combine(backupDirectory, name + MetadataExtension)))
                .ToList()
            : [];
        return ids.Count == 0
            ? $"{backupDirectory} holds no backups."
            : $"Backups in {backupDirectory}, newest first: {string.Join(", ", ids.Take(BackupsListed))}{(ids.Count > BackupsListed ? ", …" : "")}.";
    }

    private static DiagnosticException NotWritable(string folder, string reason) =>
        new(Diagnostic.Error(
            DiagnosticCodes.BackupDirectoryNotWritable,
            $"cannot write backups to {folder}: {reason} Nothing was dumped and the database was not touched. " +
            "Choose a backup folder the deploy can create and write, or fix its permissions or free space."));

    private static DiagnosticException Unavailable(string message) =>
        new(Diagnostic.Error(DiagnosticCodes.BackupUnavailable, message));

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex UnsafeIdCharacters();

    [GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial Regex ValidId();

    /// <summary>
    /// The JSON form: the dump by file name (the folder may move), the duration in seconds; the engine, absent from
    /// metadata that older runners wrote.
    /// </summary>
    private sealed record Document(
        int Version,
        string Id,
        string DumpFile,
        long Bytes,
        string? DumpSha256,
        string? Format,
        string Database,
        string SchemaHash,
        DateTimeOffset TakenAt,
        double DurationSeconds,
        string Proof,
        IReadOnlyList<TableFingerprint>? Tables,
        IReadOnlyList<SchemaObject>? Schema,
        IReadOnlyList<TableWriteCounter>? WriteCounters = null,
        string? Engine = null);
}

/// <summary>How many rows had been inserted, updated and deleted in a table (ever, as the server counts), at one moment.</summary>
/// <param name="Oid">The table's identity on the server (its name may change, and may hold anything).</param>
/// <param name="Table">Schema-qualified, quoted as SQL would, for messages.</param>
public sealed record TableWriteCounter(uint Oid, string Table, long Inserted, long Updated, long Deleted);

/// <summary>A table's content at backup time: its rows and an order-independent hash of them.</summary>
/// <param name="Table">Schema-qualified, quoted as SQL would, e.g. <c>public.orders</c>.</param>
/// <param name="ContentHash">Engine-defined; equal contents have equal hashes whatever the rows' physical order.</param>
public sealed record TableFingerprint(string Table, long Rows, string ContentHash);
