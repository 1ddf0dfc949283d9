namespace MigrationTasks.Release;

/// <summary>The names inside a release package: <c>$(PublishDir)release/</c> beside the runner <c>migrate.dll</c>.</summary>
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

    /// <summary>The files of the release folder that the manifest does not (and cannot) list.</summary>
    public static bool IsManifestOrSignature(string relativePath) =>
        relativePath is ManifestName or SignatureName;
}
