using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MigrationTasks.Release;

/// <summary>
/// <c>release/manifest.json</c>: what the release contains (every file with its SHA-256 and role) and what it
/// expects of production before and after. It is the signed document: the signature covers its exact bytes, and
/// the files are trusted through their hashes in it.
/// </summary>
/// <param name="SchemaVersion">The format of this file; <see cref="CurrentSchemaVersion"/>.</param>
/// <param name="Engine">The <c>MigrationEngine</c> the release was built for, e.g. <c>PostgreSql</c>.</param>
/// <param name="ExpectedState">How the expected pre- and post-states describe production's schema, and so how the runner
/// compares them: said explicitly, never guessed from which fields happen to be set.</param>
/// <param name="Created">When <c>dotnet publish</c> wrote it, UTC.</param>
/// <param name="SourceRevision">The git commit the project was at, or null outside git.</param>
/// <param name="ExpectedPostState">Null when no throwaway server could compute it (warning MIG5004).</param>
/// <param name="Files">Every file of the release folder but the manifest and its signature, ordered by path.</param>
/// <param name="PackageFiles">Every file of the package folder (the one holding <c>release/</c>) outside <c>release/</c>
/// when the package was made: the runner <c>migrate.dll</c> with its dependencies and configuration, and anything else
/// the publish had put there. The .NET host loads the runner before any check of the runner's own can run, so the
/// signature must cover these bytes too. Ordered by path.</param>
/// <param name="RehearsalDuration">How long these migrations took in the staging rehearsal, when one ran.</param>
/// <param name="AllowDataLoss">Whether the release may drop data (MigrationAllowDataLoss=true when a generated script was packaged).</param>
/// <param name="StatementLockTimeout">MigrationStatementLockTimeout: how long one statement of this release may wait for a
/// table lock on production before the runner rolls back and tries again (zero: no limit); null: the runner's default.</param>
public sealed record ReleaseManifest(
    int SchemaVersion,
    string PackageId,
    string Version,
    string Engine,
    ExpectedStateKind ExpectedState,
    DateTimeOffset Created,
    string? SourceRevision,
    ExpectedPreState ExpectedPreState,
    ExpectedPostState? ExpectedPostState,
    IReadOnlyList<ReleaseFile> Files,
    IReadOnlyList<PackageFile> PackageFiles,
    TimeSpan? RehearsalDuration,
    bool AllowDataLoss = false,
    TimeSpan? StatementLockTimeout = null)
{
    /// <summary>
    /// 3: the kind of expected state is explicit (<see cref="ExpectedState"/>), <c>schemaHash</c> is always a schema
    /// snapshot's hash and a compiled model's hash is <c>modelHash</c>, and a baseline without history says so (null).
    /// 2 added <see cref="PackageFiles"/>. Older manifests are refused: their fields meant other things.
    /// </summary>
    public const int CurrentSchemaVersion = 3;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        // Read by people as well as tools, and never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public IEnumerable<ReleaseFile> FilesWithRole(ReleaseFileRole role) => Files.Where(f => f.Role == role);

    /// <summary>The manifest as written to disk: properties in declaration order, files by path, "\n" line ends.</summary>
    public string ToJson() => JsonSerializer.Serialize(
            this with
            {
                Files = [.. Files.OrderBy(f => f.Path, StringComparer.Ordinal)],
                PackageFiles = [.. PackageFiles.OrderBy(f => f.Path, StringComparer.Ordinal)],
            },
            Json)
        .ReplaceLineEndings("\n") + "\n";

    /// <summary>Reads a manifest; throws <see cref="InvalidDataException"/> saying what is wrong with it.</summary>
    public static ReleaseManifest Parse(string json)
    {
        ReleaseManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ReleaseManifest>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"it is not valid manifest JSON: {e.Message}");
        }

        if (manifest is null)
        {
            throw new InvalidDataException("it holds no manifest");
        }

        if (manifest.SchemaVersion != CurrentSchemaVersion)
        {
            throw new InvalidDataException($"its schemaVersion is {manifest.SchemaVersion}, and this runner reads version {CurrentSchemaVersion}; use the runner published with the package");
        }

        // System.Text.Json leaves a missing property null whatever its declared type says.
        if (manifest.PackageId is null || manifest.Version is null || manifest.Engine is null || manifest.ExpectedPreState is null
            || manifest.Files is null || manifest.PackageFiles is null)
        {
            throw new InvalidDataException("it lacks packageId, version, engine, expectedPreState, files or packageFiles");
        }

        // The pre-state check looks each entry up by its script: a missing one would crash the runner mid-deploy.
        if (manifest.ExpectedPreState.History?.Any(h => h?.Script is null || h.Checksum is null) == true)
        {
            throw new InvalidDataException("an expectedPreState history entry lacks its script or checksum");
        }

        // A missing kind would read as the enum's first: it must be said, not defaulted.
        using (var document = JsonDocument.Parse(json))
        {
            if (!document.RootElement.TryGetProperty("expectedState", out _))
            {
                throw new InvalidDataException("it lacks expectedState (schemaSnapshot or catalogFingerprint)");
            }
        }

        if (!Enum.IsDefined(manifest.ExpectedState))
        {
            throw new InvalidDataException("its expectedState is not schemaSnapshot or catalogFingerprint");
        }

        // The runner checks the post-state by the field of its kind: a post-state without it would check nothing.
        if (manifest.ExpectedPostState is { } post && manifest.ExpectedState switch
            {
                ExpectedStateKind.SchemaSnapshot => post.SchemaHash is null,
                _ => post.CatalogFingerprint is null,
            })
        {
            throw new InvalidDataException($"its expectedPostState lacks the {(manifest.ExpectedState == ExpectedStateKind.SchemaSnapshot ? "schemaHash" : "catalogFingerprint")} its expectedState compares");
        }

        if (manifest.Files.Any(f => f is null || f.Path is null || f.Sha256 is null))
        {
            throw new InvalidDataException("a files entry lacks its path or sha256");
        }

        if (manifest.PackageFiles.Any(f => f is null || f.Path is null || f.Sha256 is null))
        {
            throw new InvalidDataException("a packageFiles entry lacks its path or sha256");
        }

        // Each list has its own root (release/ and the package folder), so a path may appear once in each.
        foreach (var paths in new[] { manifest.Files.Select(f => f.Path), manifest.PackageFiles.Select(f => f.Path) })
        {
            if (paths.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new InvalidDataException($"it lists '{twice.Key}' more than once");
            }
        }

        return manifest;
    }
}

/// <summary>How a release describes production's schema before and after it, and so how the runner compares them.</summary>
public enum ExpectedStateKind
{
    /// <summary>
    /// The schema's canonical snapshot as the engine reads it from a server: compared by its hash, and object by
    /// object with the baseline's snapshot when they differ. The history is compared too. A migrations project's kind.
    /// </summary>
    SchemaSnapshot,

    /// <summary>
    /// The names of the catalog's objects (<see cref="Schema.CatalogFingerprint"/>), for a release generated from a
    /// compiled model that a server cannot report back (a state-based project's). The baseline carries no history.
    /// </summary>
    CatalogFingerprint,
}

/// <summary>What production must look like before the release runs; anything else refuses the deploy.</summary>
/// <param name="EmptyDatabase">True without a baseline: no migration history and no objects but those a new database has.</param>
/// <param name="BaselineFile">The baseline's name inside the release, listed in the manifest with the role Baseline, or null.</param>
/// <param name="History">The migrations applied according to the baseline, in the order they were applied; null when
/// the baseline does not know the history (a compiled model), so that production's history is not compared.</param>
/// <param name="SchemaHash">The hash of the schema snapshot production must have; null when it could not be computed or
/// the release's kind is not <see cref="ExpectedStateKind.SchemaSnapshot"/>.</param>
/// <param name="CatalogFingerprint">The <see cref="Schema.CatalogFingerprint"/> production's catalog must have, for a
/// release of the kind <see cref="ExpectedStateKind.CatalogFingerprint"/>.</param>
/// <param name="ModelHash">The SHA-256 of the compiled model the release's script was generated against, for people
/// and tools to name it exactly; no server reports it, so the runner never compares it.</param>
/// <param name="DatabaseName">The database name the release's script names (MigrationDatabaseName, resolved into it at
/// packaging); the deploy refuses a database of another name rather than change the one the script names. Null when
/// the script does not name its database.</param>
public sealed record ExpectedPreState(
    bool EmptyDatabase,
    string? BaselineFile,
    IReadOnlyList<AppliedMigration>? History,
    string? SchemaHash,
    string? CatalogFingerprint = null,
    string? ModelHash = null,
    string? DatabaseName = null);

/// <summary>What production's schema must be after the release, in the fields of the release's <see cref="ExpectedStateKind"/>.</summary>
/// <param name="SchemaHash">The schema snapshot's hash every migration applied from scratch produces.</param>
/// <param name="CatalogFingerprint">The catalog fingerprint of the model the release deploys.</param>
/// <param name="ModelHash">The SHA-256 of the model the release deploys (for people; never compared).</param>
public sealed record ExpectedPostState(string? SchemaHash, string? CatalogFingerprint = null, string? ModelHash = null);

/// <summary>One applied migration of the expected history: its version (null for repeatable), script and SHA-256.</summary>
public sealed record AppliedMigration(string? Version, string Script, string Checksum);

/// <summary>One file of the release.</summary>
/// <param name="Path">Relative to <c>release/</c>, with forward slashes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
public sealed record ReleaseFile(string Path, string Sha256, ReleaseFileRole Role)
{
    /// <summary>Hashes a file of a release folder.</summary>
    public static ReleaseFile Of(string releaseDirectory, string relativePath, ReleaseFileRole role) =>
        new(relativePath, Sha256Hex(System.IO.Path.Combine(releaseDirectory, relativePath)), role);

    internal static string Sha256Hex(string path) => Common.Sha256.Hex(File.ReadAllBytes(path));
}

public enum ReleaseFileRole
{
    /// <summary>A pending migration (or the undo script of one), under <c>migrations/</c>.</summary>
    Migration,

    /// <summary>A pre-deployment check, under <c>checks/</c>.</summary>
    Check,

    /// <summary>A post-deployment verification query, under <c>verify/</c>.</summary>
    Verify,

    /// <summary>Production's state when the release was built: a baseline snapshot, or a compiled model of production.</summary>
    Baseline,

    /// <summary><c>plan.md</c>: the steps, backup and rollback plan for people.</summary>
    Plan,

    /// <summary>The compiled model the release deploys (a state-based project's: its catalog is the expected post-state).</summary>
    Model,
}
