namespace MigrationTasks.Release;

/// <summary>
/// The names inside a release package: the package folder (<c>$(PublishDir)</c>) holds <c>release/</c> and beside it
/// the runner <c>migrate.dll</c> with its dependencies.
/// </summary>
public static class ReleaseLayout
{
    public const string FolderName = "release";
    public const string ManifestName = "manifest.json";
    public const string SignatureName = "manifest.json.sig";
    public const string BaselineName = "baseline.json";
    public const string PlanName = "plan.md";
    public const string MigrationsFolder = "migrations";
    public const string ChecksFolder = "checks";
    public const string VerifyFolder = "verify";

    /// <summary>Where <c>deploy</c> and <c>restore</c> write their reports by default, relative to the working folder.</summary>
    public const string DefaultReportFolder = "migration-report";

    /// <summary>Where <c>deploy</c> writes its backups by default, relative to the working folder.</summary>
    public const string DefaultBackupFolder = "migration-backups";

    /// <summary>The files of the release folder that the manifest does not (and cannot) list.</summary>
    public static bool IsManifestOrSignature(string relativePath) =>
        relativePath is ManifestName or SignatureName;
}
