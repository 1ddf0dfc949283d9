using System.Diagnostics;
using MigrationTasks.Release;
using MigrationTasks.Schema;

namespace MigrationTasks.Production;

/// <summary>
/// How production's schema is compared with a release's expected pre- and post-state: one comparison per
/// <see cref="ExpectedStateKind"/>, chosen by the kind the signed manifest names. The pre-state check, the post-state
/// check and the "already deployed" decision all ask the same comparison, so they cannot disagree about a kind.
/// </summary>
public abstract class ExpectedSchema
{
    public static ExpectedSchema For(ExpectedStateKind kind) => kind switch
    {
        ExpectedStateKind.SchemaSnapshot => new SnapshotComparison(),
        ExpectedStateKind.CatalogFingerprint => new CatalogComparison(),
        _ => throw new UnreachableException($"expected-state kind {kind}: the manifest reader refuses unknown kinds"),
    };

    /// <summary>How production's schema differs from the expected pre-state of a release that has a baseline; empty when it does not.</summary>
    public abstract IEnumerable<string> PreStateDifferences(ReleaseToDeploy release, SchemaSnapshot actual);

    /// <summary>
    /// What is wrong with the schema after the deploy, as (a short problem for the report, the full message);
    /// null when it is the release's post-state, or the release carries none.
    /// </summary>
    public abstract (string Problem, string Message)? PostStateMismatch(ExpectedPostState? expected, SchemaSnapshot after);

    /// <summary>Whether the schema is the release's post-state (true when the release carries none to compare).</summary>
    public bool IsPostState(ExpectedPostState? expected, SchemaSnapshot actual) => PostStateMismatch(expected, actual) is null;

    /// <summary>The first characters of a hash, enough to tell two apart in a message.</summary>
    protected static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;

    /// <summary>The whole canonical snapshot, by its hash; object by object when the baseline's snapshot is at hand.</summary>
    private sealed class SnapshotComparison : ExpectedSchema
    {
        public override IEnumerable<string> PreStateDifferences(ReleaseToDeploy release, SchemaSnapshot actual)
        {
            if (release.PreState.SchemaHash is not { } hash || hash == actual.Hash)
            {
                return [];
            }

            return release.BaselineSchema is { } schema
                ? SchemaDiff.Compare(schema, actual).Select(d => d.ToString())
                : [$"the schema's hash is {Short(actual.Hash)}, the baseline's is {Short(hash)}"];
        }

        public override (string Problem, string Message)? PostStateMismatch(ExpectedPostState? expected, SchemaSnapshot after) =>
            expected?.SchemaHash is { } hash && hash != after.Hash
                ? ($"the schema after the deploy (hash {Short(after.Hash)}) is not the one the package's history produces (hash {Short(hash)})",
                   $"the schema after the deploy has hash {after.Hash}, the package expects {hash}: production held something the baseline did not show.")
                : null;
    }

    /// <summary>
    /// The catalog's object names only: a release generated from a compiled model expects the model's objects, and
    /// definitions read back from a server never equal a model's text.
    /// </summary>
    private sealed class CatalogComparison : ExpectedSchema
    {
        public override IEnumerable<string> PreStateDifferences(ReleaseToDeploy release, SchemaSnapshot actual)
        {
            if (release.PreState.CatalogFingerprint is not { } fingerprint || CatalogFingerprint.Of(actual) is var found && found == fingerprint)
            {
                return [];
            }

            return [$"the catalog's fingerprint (its objects' names) is {Short(found)}, the baseline's is {Short(fingerprint)}: " +
                    "an object was added, dropped or renamed since the baseline was exported"];
        }

        public override (string Problem, string Message)? PostStateMismatch(ExpectedPostState? expected, SchemaSnapshot after) =>
            expected?.CatalogFingerprint is { } fingerprint && CatalogFingerprint.Of(after) is var actual && actual != fingerprint
                ? ($"the catalog after the deploy (fingerprint {Short(actual)}) does not hold the package's objects (fingerprint {Short(fingerprint)})",
                   $"the catalog after the deploy has fingerprint {actual}, the package expects {fingerprint}: an object is missing or extra.")
                : null;
    }
}
