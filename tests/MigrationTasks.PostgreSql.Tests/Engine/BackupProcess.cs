using System.Diagnostics;
using MigrationTasks.PostgreSql.Engine;

namespace MigrationTasks.PostgreSql.Tests.Engine;

/// <summary>
/// The test assembly's entry point, which the test host never calls: a test starts this assembly with
/// <c>dotnet exec</c> to have a backup running in a process of its own, which it can kill -9 as a machine or an
/// operator would kill the runner.
/// </summary>
public static class BackupProcess
{
    private const string Verb = "back-up";
    private const string ConnectionVariable = "MIGRATIONTASKS_TEST_BACKUP_CONNECTION";

    public static async Task<int> Main(string[] args)
    {
        if (args is not [Verb, var folder] || Environment.GetEnvironmentVariable(ConnectionVariable) is not { Length: > 0 } connectionString)
        {
            await Console.Error.WriteLineAsync($"usage: {Verb} <backup folder>, with the connection string in {ConnectionVariable}");
            return 2;
        }

        await using var database = await new PostgresEngine().ConnectAsync(connectionString, CancellationToken.None);
        var backup = await database.BackupAsync(folder, hashRows: false, CancellationToken.None);
        Console.WriteLine(backup.Id);
        return 0;
    }

    /// <summary>Starts a backup of the database into the folder in a new process (the connection string in its environment, not its command line).</summary>
    public static Process Start(string connectionString, string folder)
    {
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["exec", typeof(BackupProcess).Assembly.Location, Verb, folder])
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment[ConnectionVariable] = connectionString;
        return Process.Start(startInfo) ?? throw new InvalidOperationException("could not start dotnet");
    }
}
