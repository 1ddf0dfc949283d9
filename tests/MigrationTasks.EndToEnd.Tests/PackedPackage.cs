using MigrationTasks.Testing;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// The real MigrationTasks .nupkg, packed once per test run with a version of its own into a local feed: NuGet keeps
/// the first copy of a version forever, so a fixed version would test yesterday's package.
/// </summary>
internal static class PackedPackage
{
    private static readonly Lazy<Task<(string Feed, string Version)>> Packed = new(PackAsync);

    public static Task<(string Feed, string Version)> GetAsync() => Packed.Value;

    /// <summary>
    /// The folder of this run's package and projects, <c>$TMP/migrationtasks-e2e/&lt;version&gt;</c>, or null before
    /// the package was made. A run writes gigabytes there (a package folder and a restore per project).
    /// </summary>
    public static string? RunFolder => Packed.IsValueCreated && Packed.Value.IsCompletedSuccessfully
        ? Path.GetDirectoryName(Packed.Value.Result.Feed)
        : null;

    private static async Task<(string Feed, string Version)> PackAsync()
    {
        var version = $"0.1.0-e2e.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        var feed = Path.Combine(Path.GetTempPath(), "migrationtasks-e2e", version, "feed");
        Directory.CreateDirectory(feed);
        var (exitCode, output) = await ProcessRunner.RunAsync(
            "dotnet",
            ["pack", Path.Combine(RepositoryPaths.Root, "nuget", "MigrationTasks.Package.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}", "-nologo"],
            RepositoryPaths.Root,
            timeout: TimeSpan.FromMinutes(10));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed ({exitCode}):\n{output}");
        }

        return (feed, version);
    }
}
