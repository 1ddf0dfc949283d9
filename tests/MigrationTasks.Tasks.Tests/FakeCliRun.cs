using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MigrationTasks.Tasks.Tests;

/// <summary>
/// One run of <see cref="MigrationTool"/> against <see cref="FakeMigrate"/> in a folder of its own (with a space in
/// its path): the test sets the task's parameters and what the fake prints and returns, then reads what the process
/// was given and what the task logged.
/// </summary>
public sealed class FakeCliRun : IDisposable
{
    public FakeCliRun(string verb)
    {
        Folder = Path.Combine(Path.GetTempPath(), "migrationtasks tasks tests", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Record);
        Task = new MigrationTool
        {
            BuildEngine = Engine,
            Verb = verb,
            CliPath = typeof(FakeMigrate).Assembly.Location,
            DotNetHost = DotNetHost,
        };
    }

    /// <summary>The host `dotnet test` runs under (MSBuild's DOTNET_HOST_PATH, as the targets pass it), else the one on PATH.</summary>
    public static string DotNetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "";

    public string Folder { get; }

    public MigrationTool Task { get; }

    public RecordingBuildEngine Engine { get; } = new();

    public IList<string> StandardOutput { get; } = [];

    public IList<string> StandardError { get; } = [];

    public int ExitCode { get; set; }

    /// <summary>The task's return value, after <see cref="Execute"/>.</summary>
    public bool Succeeded { get; private set; }

    private string Record => Path.Combine(Folder, "record");

    /// <summary>The response file exactly as the process read it (null when none was given).</summary>
    public string? ResponseFileText => File.Exists(Path.Combine(Record, FakeMigrate.ResponseFile)) ? File.ReadAllText(Path.Combine(Record, FakeMigrate.ResponseFile)) : null;

    public byte[] ResponseFileBytes => File.ReadAllBytes(Path.Combine(Record, FakeMigrate.ResponseFile));

    /// <summary>The response file's lines: the arguments the CLI reads from it, one per line.</summary>
    public string[] ResponseLines => ResponseFileText!.Split('\n')[..^1];

    /// <summary>The process's arguments after the CLI's path (which the dotnet host takes).</summary>
    public string[] Arguments => File.ReadAllLines(Path.Combine(Record, FakeMigrate.ArgumentsFile));

    /// <summary>The value the fake CLI found in the variable <c>--connection-variable</c> names.</summary>
    public string ConnectionSeenByCli => File.ReadAllText(Path.Combine(Record, FakeMigrate.ConnectionFile));

    /// <summary>A file path under this run's folder (the folder is not created).</summary>
    public string PathOf(params string[] parts) => Path.Combine([Folder, .. parts]);

    public static ITaskItem Item(string path, params (string Name, string Value)[] metadata)
    {
        var item = new TaskItem(path);
        foreach (var (name, value) in metadata)
        {
            item.SetMetadata(name, value);
        }

        return item;
    }

    public FakeCliRun Execute()
    {
        var stdout = Path.Combine(Folder, "stdout.txt");
        var stderr = Path.Combine(Folder, "stderr.txt");
        File.WriteAllLines(stdout, StandardOutput);
        File.WriteAllLines(stderr, StandardError);
        Task.EnvironmentVariables =
        [
            $"{FakeMigrate.RecordVariable}={Record}",
            $"{FakeMigrate.StandardOutputVariable}={stdout}",
            $"{FakeMigrate.StandardErrorVariable}={stderr}",
            $"{FakeMigrate.ExitCodeVariable}={ExitCode}",
        ];
        Succeeded = Task.Execute();
        return this;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless; a failed test's folder may help.
        }
    }
}
