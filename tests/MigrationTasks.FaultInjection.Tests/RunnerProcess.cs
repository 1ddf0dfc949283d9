using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// One run of the release's runner, <c>dotnet migrate.dll &lt;verb&gt; …</c>, as CI starts it: its output as it
/// comes, and the faults a production job meets (SIGKILL, SIGTERM). The connection string reaches it through its
/// environment only.
/// </summary>
internal sealed partial class RunnerProcess : IDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunnerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _exited.Task.IsCompleted;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static RunnerProcess Start(string runner, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(runner)!,
        };
        info.ArgumentList.Add(runner);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MIGRATIONTASKS_", StringComparison.Ordinal) || k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var runnerProcess = new RunnerProcess(process);
        process.OutputDataReceived += (_, e) => runnerProcess.Append(e.Data);
        process.ErrorDataReceived += (_, e) => runnerProcess.Append(e.Data);
        process.Exited += (_, _) => runnerProcess._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return runnerProcess;
    }

    /// <summary>Waits until the output has a line matching <paramref name="pattern"/>; fails the test with the output when the runner ends first or time runs out.</summary>
    public async Task WaitForOutputAsync(string pattern, TimeSpan? timeout = null)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!regex.IsMatch(Output))
        {
            if (_exited.Task.IsCompleted)
            {
                Assert.Fail($"the runner exited ({_process.ExitCode}) before printing /{pattern}/:\n{Output}");
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"the runner did not print /{pattern}/ in time:\n{Output}");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>kill -9: the process ends at once, no handler runs.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    /// <summary>What CI, systemd and Kubernetes send to cancel a job.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<(int ExitCode, string Output)> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"the runner did not exit in time:\n{Output}");
        }

        _process.WaitForExit();
        return (_process.ExitCode, Output);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
