using System.Text.Json;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;

namespace MigrationTasks.Release;

/// <summary>
/// What production looks like now, exported read-only by <c>migrate baseline</c> for <c>MigrationBaseline</c>: its
/// migration history and its canonical schema snapshot. The release is planned against it: only migrations the
/// history lacks are packaged, and the deploy refuses a production that no longer matches it.
/// </summary>
public sealed class MigrationBaseline
{
    public const int CurrentSchemaVersion = 1;

    public MigrationBaseline(string engine, DateTimeOffset exportedAt, string? database, IReadOnlyList<BaselineHistoryRow> history, SchemaSnapshot schema)
    {
        Engine = engine;
        ExportedAt = exportedAt;
        Database = database;
        History = history;
        Schema = schema;
    }

    public string Engine { get; }

    public DateTimeOffset ExportedAt { get; }

    /// <summary>Server and database it was exported from (never credentials), for people reading it.</summary>
    public string? Database { get; }

    /// <summary>Every history row, oldest first, failed and unfinished attempts included.</summary>
    public IReadOnlyList<BaselineHistoryRow> History { get; }

    public SchemaSnapshot Schema { get; }

    public string SchemaHash => Schema.Hash;

    /// <summary>Reads production's history and schema; changes nothing.</summary>
    public static async Task<MigrationBaseline> ExportAsync(string engine, ITargetDatabase database, CancellationToken cancellationToken)
    {
        var history = await database.ReadHistoryAsync(cancellationToken);
        var schema = await database.ReadSchemaAsync(cancellationToken);
        return new MigrationBaseline(
            engine,
            DateTimeOffset.UtcNow,
            database.DisplayName,
            [.. history.Select(h => new BaselineHistoryRow(
                h.Version, h.Script, h.Checksum, h.Outcome, h.StatementsApplied, h.StatementsTotal, h.AppliedStatementsChecksum, h.FinishedAt))],
            schema);
    }

    /// <summary>
    /// The migrations in effect: per version, and per repeatable script, the newest row when it succeeded; in the
    /// order they were applied.
    /// </summary>
    public IReadOnlyList<AppliedMigration> AppliedHistory()
    {
        var rows = History.Select((row, index) => (Row: row, Index: index)).ToList();
        var newestVersioned = rows.Where(r => r.Row.Version is not null)
            .GroupBy(r => r.Row.Version!, StringComparer.Ordinal)
            .Select(g => g.MaxBy(r => r.Index))
            .Where(r => r.Row.Outcome == HistoryOutcome.Success);
        // A repeatable script's effect is its newest success: a failed re-run after it was rolled back.
        var newestRepeatable = rows.Where(r => r.Row.Version is null && r.Row.Outcome == HistoryOutcome.Success)
            .GroupBy(r => r.Row.Script, StringComparer.Ordinal)
            .Select(g => g.MaxBy(r => r.Index));
        return [.. newestVersioned.Concat(newestRepeatable)
            .OrderBy(r => r.Index)
            .Select(r => new AppliedMigration(r.Row.Version, r.Row.Script, r.Row.Checksum))];
    }

    /// <summary>The rows as the planner reads a live history, numbered in their order.</summary>
    public IReadOnlyList<HistoryEntry> ToHistoryEntries() =>
        [.. History.Select((row, index) => new HistoryEntry(
            index + 1,
            row.Version,
            row.Script,
            row.Script,
            row.Checksum,
            row.StatementsApplied,
            row.StatementsTotal,
            row.AppliedStatementsChecksum,
            row.Outcome,
            row.FinishedAt ?? ExportedAt,
            row.FinishedAt,
            null))];

    public string ToJson()
    {
        using var schema = JsonDocument.Parse(Schema.ToJson());
        var document = new BaselineDocument(CurrentSchemaVersion, Engine, ExportedAt, Database, History, SchemaHash, schema.RootElement);
        return JsonSerializer.Serialize(document, ReleaseManifest.Json).ReplaceLineEndings("\n") + "\n";
    }

    /// <summary>Parses a baseline; throws <see cref="InvalidDataException"/> saying what is wrong.</summary>
    public static MigrationBaseline FromJson(string json)
    {
        BaselineDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<BaselineDocument>(json, ReleaseManifest.Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"it is not valid baseline JSON: {e.Message}");
        }

        if (document is null)
        {
            throw new InvalidDataException("it holds no baseline");
        }

        if (document.SchemaVersion != CurrentSchemaVersion)
        {
            throw new InvalidDataException($"its schemaVersion is {document.SchemaVersion}; this version of MigrationTasks reads {CurrentSchemaVersion}");
        }

        if (document.Engine is null || document.History is null || document.History.Any(h => h?.Script is null || h.Checksum is null)
            || document.Schema.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("it lacks engine, history (each row with script and checksum) or schema");
        }

        var schema = SchemaSnapshot.FromJson(document.Schema.GetRawText());
        if (!string.Equals(schema.Hash, document.SchemaHash, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"its schemaHash {document.SchemaHash} is not the hash of its schema ({schema.Hash})");
        }

        return new MigrationBaseline(
            document.Engine,
            document.ExportedAt,
            document.Database,
            [.. document.History.Select(h => h with { AppliedStatementsChecksum = h.AppliedStatementsChecksum ?? "" })],
            schema);
    }

    /// <summary>Reads a baseline file; a MIG5001 error naming the file when it cannot be used.</summary>
    public static MigrationBaseline Load(string path)
    {
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw Unusable(path, e);
        }
    }

    /// <summary>A baseline from bytes already read (a verified release's); MIG5001 naming the file when it cannot be used.</summary>
    public static MigrationBaseline From(Common.SourceFile source)
    {
        try
        {
            return FromJson(source.Text);
        }
        catch (InvalidDataException e)
        {
            throw Unusable(source.Path, e);
        }
    }

    private static DiagnosticException Unusable(string path, Exception e) =>
        new(Diagnostic.Error(
            DiagnosticCodes.BaselineUnreadable,
            $"the baseline cannot be used: {e.Message}. Export it again from production with " +
            "`migrate baseline --connection-variable VAR --out FILE` and point MigrationBaseline at the file.",
            path));

    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, ToJson());
    }

    private sealed record BaselineDocument(
        int SchemaVersion,
        string Engine,
        DateTimeOffset ExportedAt,
        string? Database,
        IReadOnlyList<BaselineHistoryRow> History,
        string SchemaHash,
        JsonElement Schema);
}

/// <summary>One history row of a baseline: enough for the planner to decide what is pending, and to resume.</summary>
/// <param name="Version">Canonical version; null for a repeatable migration.</param>
/// <param name="Checksum">SHA-256 of the script's bytes when it was applied.</param>
/// <param name="AppliedStatementsChecksum">See <see cref="StatementChecksum"/>.</param>
public sealed record BaselineHistoryRow(
    string? Version,
    string Script,
    string Checksum,
    HistoryOutcome Outcome,
    int StatementsApplied,
    int StatementsTotal,
    string AppliedStatementsChecksum,
    DateTimeOffset? FinishedAt);
