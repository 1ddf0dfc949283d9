namespace MigrationTasks.Testing;

public static class RepositoryPaths
{
    /// <summary>The folder holding MigrationTasks.sln, found upward from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string SampleProject(string name) => Path.Combine(Root, "samples", name);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MigrationTasks.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("MigrationTasks.sln not found above " + AppContext.BaseDirectory);
    }
}
