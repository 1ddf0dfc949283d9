using System.Text;
using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Release;
using MigrationTasks.Schema;

namespace MigrationTasks.Production;

/// <summary>
/// What the runner needs from a verified release package: its scripts (the bytes the verifier hashed, with their
/// paths inside the package folder for diagnostics) and the states it expects production to be in before and after.
/// </summary>
/// <param name="Migrations">The pending migrations the package carries (undo scripts are left out by the runner).</param>
/// <param name="PreState">The manifest's expected pre-state: an empty database, or the baseline's history and schema hash.</param>
/// <param name="BaselineSchema">The baseline's full schema, to show a pre-state mismatch object by object; null without one.</param>
/// <param name="PostState">What production's schema must be after the deploy; null when packaging could not compute it.</param>
/// <param name="StagingRehearsalMs">How long the rehearsal on staging took at publish; null when there was none.</param>
/// <param name="ExpectedState">How <paramref name="PreState"/> and <paramref name="PostState"/> describe the schema.</param>
/// <param name="ManifestSha256">The SHA-256 of the signed manifest: the release's identity in the deploy history.</param>
public sealed record ReleaseToDeploy(
    string PackageId,
    string Version,
    string Engine,
    IReadOnlyList<SourceFile> Migrations,
    IReadOnlyList<SourceFile> Checks,
    IReadOnlyList<SourceFile> Verify,
    ExpectedPreState PreState,
    SchemaSnapshot? BaselineSchema,
    ExpectedPostState? PostState,
    long? StagingRehearsalMs = null,
    ExpectedStateKind ExpectedState = ExpectedStateKind.SchemaSnapshot,
    string? ManifestSha256 = null)
{
    /// <summary>
    /// What identifies exactly this release in the deploy history: the manifest's SHA-256, or (a release built in
    /// memory, as tests do) a hash of its name and its scripts' bytes.
    /// </summary>
    public string Fingerprint => ManifestSha256 ?? Sha256.Hex(string.Join('\n',
        new[] { PackageId, Version }.Concat(Migrations.Concat(Checks).Concat(Verify).Select(f => Sha256.Hex(f.Bytes.Span)))));

    /// <summary>A release for an empty database (no MigrationBaseline).</summary>
    public static ExpectedPreState EmptyDatabase { get; } = new(true, null, [], null);

    /// <summary>The history production must have before the deploy: none when the baseline does not know it.</summary>
    public IReadOnlyList<AppliedMigration> ExpectedHistory => PreState.History ?? [];

    /// <summary>The release a passed verification describes; throws the verification's diagnostics when it did not pass.</summary>
    public static ReleaseToDeploy From(ReleaseVerification verification)
    {
        if (!verification.Passed || verification.Manifest is not { } manifest)
        {
            throw new DiagnosticException([.. verification.Diagnostics.Where(d => d.IsError)]);
        }

        SourceFile[] Files(ReleaseFileRole role) => [.. manifest.FilesWithRole(role).Select(verification.SourceOf)];
        // Only a snapshot release's baseline is a schema snapshot (a catalog release's is a compiled model). The
        // verifier made sure the name is a listed baseline file: its verified bytes are read, never the path.
        var baselineFile = manifest.ExpectedState == ExpectedStateKind.SchemaSnapshot && manifest.ExpectedPreState.BaselineFile is { } name
            ? manifest.Files.Single(f => f.Path == name && f.Role == ReleaseFileRole.Baseline)
            : null;
        var baseline = baselineFile is null ? null : MigrationBaseline.From(verification.SourceOf(baselineFile)).Schema;
        return new ReleaseToDeploy(
            manifest.PackageId,
            manifest.Version,
            manifest.Engine,
            Files(ReleaseFileRole.Migration),
            Files(ReleaseFileRole.Check),
            Files(ReleaseFileRole.Verify),
            manifest.ExpectedPreState,
            baseline,
            manifest.ExpectedPostState,
            manifest.RehearsalDuration is { } rehearsal ? (long)rehearsal.TotalMilliseconds : null,
            manifest.ExpectedState,
            verification.ManifestSha256);
    }
}
