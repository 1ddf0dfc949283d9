using System.Xml.Linq;
using MigrationTasks.Testing;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// A database project in a temp folder that references the packed MigrationTasks package, the way a user's does:
/// its own nuget.config and packages folder, and empty Directory.Build.* files so the repository's settings stay out.
/// </summary>
internal sealed class DatabaseProject
{
    private DatabaseProject(string directory, string name, string packageVersion)
    {
        Directory = directory;
        Name = name;
        PackageVersion = packageVersion;
    }

    public string Directory { get; }

    public string Name { get; }

    /// <summary>The version of the packed MigrationTasks package the project references.</summary>
    public string PackageVersion { get; }

    /// <summary>
    /// The runner a user already trusts: migrate.dll from the MigrationTasks package NuGet restored (its tools/net8.0
    /// folder in this project's own packages folder), not the copy a publish put beside release/.
    /// </summary>
    public string TrustedRunner => Path.Combine(
        Path.GetDirectoryName(Directory)!, "packages", "migrationtasks", PackageVersion.ToLowerInvariant(), "tools", "net8.0", "migrate.dll");

    public string ProjectFile => Path.Combine(Directory, Name + ".csproj");

    public string TestReport => Path.Combine(Directory, "bin", "Debug", "net8.0", "migration-tests.xml");

    /// <summary>Where a SQL Server project's build writes its dacpac: $(TargetDir)$(MSBuildProjectName).dacpac.</summary>
    public string Dacpac => Path.Combine(Directory, "bin", "Debug", "net8.0", Name + ".dacpac");

    // Since .NET 8, dotnet publish builds the Release configuration by default.
    public string PublishDirectory => Path.Combine(Directory, "bin", "Release", "net8.0", "publish");

    /// <summary>A project of the engine with the given extra MSBuild properties and items, and no sources yet.</summary>
    public static async Task<DatabaseProject> CreateAsync(string name = "Db", string extraProperties = "", string extraItems = "", string engine = "PostgreSql")
    {
        var (feed, version) = await PackedPackage.GetAsync();
        var root = Path.Combine(Path.GetTempPath(), "migrationtasks-e2e", version, TestContext.CurrentContext.Test.Name + "-" + Guid.NewGuid().ToString("N")[..8]);
        var directory = Path.Combine(root, name);
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(root, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(root, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(root, "Directory.Packages.props"), "<Project />");
        // The machine's packages folder is a read-only fallback, so only MigrationTasks is copied per test.
        var machinePackages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        new XDocument(new XElement(
            "configuration",
            new XElement(
                "packageSources",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "local"), new XAttribute("value", feed)),
                new XElement("add", new XAttribute("key", "nuget.org"), new XAttribute("value", "https://api.nuget.org/v3/index.json"))),
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", Path.Combine(root, "packages")))),
            new XElement("fallbackPackageFolders", new XElement("add", new XAttribute("key", "machine"), new XAttribute("value", machinePackages)))))
            .Save(Path.Combine(root, "nuget.config"));
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.Build.NoTargets/3.7.0">
              <PropertyGroup>
                <TargetFramework>net8.0</TargetFramework>
                <MigrationEngine>{engine}</MigrationEngine>
                {extraProperties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="MigrationTasks" Version="{version}" PrivateAssets="all" />
                {extraItems}
              </ItemGroup>
            </Project>
            """);
        return new DatabaseProject(directory, name, version);
    }

    /// <summary>A copy of a sample's sources (Migrations/, Tests/, its baseline, …) and Migration* settings in a new project.</summary>
    public static async Task<DatabaseProject> FromSampleAsync(string sample)
    {
        var source = RepositoryPaths.SampleProject(sample);
        var properties = System.Xml.Linq.XDocument.Load(Path.Combine(source, sample + ".csproj")).Descendants()
            .Where(e => e.Parent?.Name.LocalName == "PropertyGroup" && e.Name.LocalName.StartsWith("Migration", StringComparison.Ordinal))
            .ToList();
        var settings = properties.Where(e => e.Name.LocalName != "MigrationEngine").Select(e => e.ToString());
        var engine = properties.LastOrDefault(e => e.Name.LocalName == "MigrationEngine")?.Value ?? "PostgreSql";
        var project = await CreateAsync(sample, string.Join(Environment.NewLine, settings), engine: engine);
        var sources = System.IO.Directory.EnumerateFiles(source, "*.sql", SearchOption.AllDirectories)
            .Concat(System.IO.Directory.EnumerateFiles(source, "*.json", SearchOption.AllDirectories))
            .Concat(System.IO.Directory.EnumerateFiles(source, "*.dacpac", SearchOption.AllDirectories));
        foreach (var file in sources)
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            // A dacpac (SQL Server's baseline) is a zip: copied byte for byte.
            var target = project.PathOf(Path.GetRelativePath(source, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }

        return project;
    }

    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Delete(string relativePath) => File.Delete(Path.Combine(Directory, relativePath));

    public string PathOf(string relativePath) => Path.Combine(Directory, relativePath);

    /// <summary>Runs <c>dotnet build</c> on the project.</summary>
    public Task<(int ExitCode, string Output)> BuildAsync(IReadOnlyDictionary<string, string?>? environment = null, params string[] extraArguments) =>
        RunAsync("build", environment, extraArguments);

    /// <summary>Runs <c>dotnet publish</c> on the project.</summary>
    public Task<(int ExitCode, string Output)> PublishAsync(IReadOnlyDictionary<string, string?>? environment = null, params string[] extraArguments) =>
        RunAsync("publish", environment, extraArguments);

    /// <summary>Runs <c>dotnet clean</c> on the project (pass <c>-c Release</c> for what a publish wrote).</summary>
    public Task<(int ExitCode, string Output)> CleanAsync(IReadOnlyDictionary<string, string?>? environment = null, params string[] extraArguments) =>
        RunAsync("clean", environment, extraArguments);

    /// <summary>The migration steps' state folder in obj/ for a configuration: stamps, input lists, dev-target.txt.</summary>
    public string StateDirectory(string configuration = "Debug") => Path.Combine(Directory, "obj", configuration, "net8.0", "migrationtasks");

    // No model server unless a test asks for one: a test's build leaves no process behind, and each build is cold.
    private Task<(int ExitCode, string Output)> RunAsync(string verb, IReadOnlyDictionary<string, string?>? environment, string[] extraArguments) =>
        ProcessRunner.RunAsync(
            "dotnet",
            [verb, ProjectFile, "-nologo", "-tl:off", "-v:n", .. extraArguments],
            Directory,
            new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>()) { ["MIGRATIONTASKS_MODEL_SERVER"] = environment?.GetValueOrDefault("MIGRATIONTASKS_MODEL_SERVER") ?? "0" },
            TimeSpan.FromMinutes(5));
}
