namespace MigrationTasks.Release;

/// <summary>What <c>dotnet publish</c> gives the <c>package</c> step.</summary>
/// <param name="Migrations">Every Migration item; only the ones the baseline lacks are packaged.</param>
/// <param name="PublishDirectory">Where <c>release/</c> is written (replacing an earlier one).</param>
/// <param name="StateDirectory">obj/migrationtasks: where the throwaway server for the expected schemas lives.</param>
/// <param name="BaselinePath">MigrationBaseline: production's exported state; null for a release to an empty database.</param>
/// <param name="SigningCertificate">MigrationSigningCertificate: a PFX or PEM file; null leaves the release unsigned.</param>
/// <param name="StagingReport">staging-report.json of this publish, when the staging gate wrote one.</param>
/// <param name="ProjectDirectory">The database project's folder, for the git revision; null when unknown.</param>
/// <param name="RunnerDirectory">The folder of the runner to copy beside <c>release/</c> (the CLI's own folder); null copies none.</param>
/// <param name="StatementLockTimeout">MigrationStatementLockTimeout, carried in the manifest; null: the runner's default.</param>
public sealed record ReleaseOptions(
    IReadOnlyList<string> Migrations,
    IReadOnlyList<string> Checks,
    IReadOnlyList<string> Verifies,
    string PublishDirectory,
    string PackageId,
    string Version,
    string StateDirectory,
    string? BaselinePath = null,
    string? SigningCertificate = null,
    string? StagingReport = null,
    string? ProjectDirectory = null,
    string? RunnerDirectory = null,
    TimeSpan? StatementLockTimeout = null);
