using System.Diagnostics;

namespace MigrationTasks.Core.Tests.Release;

/// <summary>Things a hostile package may hold that make a careless reader hang, and a way to test for the hang.</summary>
internal static class Traps
{
    /// <summary>A FIFO at <paramref name="path"/>: opening it for reading blocks until someone opens it for writing.</summary>
    public static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        mkfifo.WaitForExit();
        if (mkfifo.ExitCode != 0)
        {
            throw new InvalidOperationException($"mkfifo {path}: {mkfifo.StandardError.ReadToEnd()}");
        }
    }

    /// <summary>What <paramref name="work"/> returns, failing the test if it does not return within 20 seconds.</summary>
    public static T Within<T>(Func<T> work)
    {
        var run = Task.Factory.StartNew(work, TaskCreationOptions.LongRunning);
        Assert.That(run.Wait(TimeSpan.FromSeconds(20)), Is.True, "it returned instead of hanging");
        return run.Result;
    }
}
