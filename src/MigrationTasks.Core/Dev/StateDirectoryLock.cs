using MigrationTasks.Diagnostics;

namespace MigrationTasks.Dev;

/// <summary>
/// One build at a time uses a project's throwaway local server, its dev database and cached states (two builds of one
/// project at once, say the IDE's and a terminal's, would stop, rename and drop each other's work): an exclusive lock
/// on a file in the state folder, which the operating system releases when the process ends, however it ends.
/// </summary>
internal sealed class StateDirectoryLock : IDisposable
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);
    private readonly FileStream _file;

    private StateDirectoryLock(FileStream file) => _file = file;

    public static async Task<StateDirectoryLock> AcquireAsync(string stateDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, "server.lock");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new StateDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (waited.Elapsed < MaxWait)
            {
                await Task.Delay(Pause, cancellationToken);
            }
            catch (IOException)
            {
                throw new DiagnosticException(Diagnostic.Error(
                    DiagnosticCodes.LockTimeout,
                    $"another build of this project has held its throwaway server for {MaxWait.TotalMinutes:0} minutes ({path} is locked). " +
                    "Wait for that build to end, or end it if it is stuck, and build again.",
                    path));
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
