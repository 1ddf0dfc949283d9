using System.Diagnostics;
using MigrationTasks.Testing;

namespace MigrationTasks.Cli.Tests;

/// <summary>Runs the CLI: in process through its command line (fast), or the built migrate.dll as a process (exit codes as a shell sees them).</summary>
internal static class Cli
{
    /// <summary>The CLI built beside this test assembly's configuration (bin/&lt;Configuration&gt;/net8.0/migrate.dll).</summary>
    public static string Dll { get; } = Path.Combine(
        RepositoryPaths.Root, "src", "MigrationTasks.Cli", "bin",
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net8.0", "migrate.dll");

    public static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await MigrateCommand.RunAsync(args, output, CancellationToken.None);
        return (exit, output.ToString());
    }

    public static async Task<(int Exit, string Output)> RunProcessAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        Assert.That(File.Exists(Dll), Is.True, $"the CLI is not built at {Dll}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
