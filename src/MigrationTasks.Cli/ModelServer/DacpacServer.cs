using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.Cli.ModelServer;

/// <summary>
/// <c>migrate model-server</c>: a long-lived process, like the compiler server, that keeps each project's DacFx model
/// (<see cref="KeptModels"/>) and its JIT-compiled DacFx code, so that <c>build-dacpac</c> after a one-file change
/// adds that file's objects again instead of the whole Schema/ in a cold process. It runs the same builder as a cold
/// build, so the dacpac and every diagnostic are the same. One request at a time (DacFx's models are not shared
/// between threads); a client waits in the socket's queue meanwhile.
/// It ends after <c>--idle-timeout</c> without a request, when the MSBuild node that sent the last request ends (only
/// a node that stays after its build, which `dotnet build-server shutdown` ends, sends its id), on <c>--stop</c>, and
/// on SIGTERM. It reads the files itself and logs paths and counts, never their content.
/// </summary>
internal sealed class DacpacServer(DacpacServerAddress address, TimeSpan idleTimeout) : IDisposable
{
    private readonly KeptModels _models = new();
    private readonly object _gate = new();
    private DateTime _lastRequest = DateTime.UtcNow;
    private bool _busy;
    private (int Id, DateTime Started)? _host;
    private StreamWriter? _log;

    /// <summary>Serves until a reason to end; 0, also when another server of this key already runs.</summary>
    public async Task<int> RunAsync(string? primeFile, CancellationToken cancellationToken)
    {
        if (!address.EnsurePrivateFolder())
        {
            return 1;
        }

        FileStream held;
        try
        {
            held = new FileStream(address.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            // Another server of this key holds the lock and serves.
            DeleteQuietly(primeFile);
            return 0;
        }

        using (held)
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        using (var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            _log = new StreamWriter(new FileStream(address.LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            // The lock is ours: a socket file left here belongs to a server that died.
            DeleteQuietly(address.Socket);
            listener.Bind(address.EndPoint);
            listener.Listen(16);
            Log($"started (process {Environment.ProcessId}, idle timeout {idleTimeout.TotalSeconds:0} s)");
            using var watchdog = new Timer(_ => EndWhenDone(stop), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            try
            {
                if (primeFile is not null)
                {
                    Prime(primeFile);
                }

                while (!stop.IsCancellationRequested)
                {
                    using var client = await listener.AcceptAsync(stop.Token);
                    Serve(client, stop);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                DeleteQuietly(address.Socket);
                Log("stopped");
            }
        }

        return 0;
    }

    public void Dispose()
    {
        _models.Dispose();
        _log?.Dispose();
    }

    private void Serve(Socket client, CancellationTokenSource stop)
    {
        lock (_gate)
        {
            _busy = true;
        }

        try
        {
            using var stream = new NetworkStream(client, ownsSocket: false);
            var request = DacpacServerMessages.ReadRequest(stream);
            DacpacServerResponse response;
            if (request is null || request.Key != address.Key)
            {
                response = new DacpacServerResponse(false, 0, "");
            }
            else if (request.Kind == DacpacServerRequestKind.Stop)
            {
                Log("stop requested");
                stop.Cancel();
                response = new DacpacServerResponse(true, 0, "");
            }
            else
            {
                _host = request.HostProcessId > 0 && StartTime(request.HostProcessId) is { } started ? (request.HostProcessId, started) : null;
                response = Build(request.Directory, request.Arguments, outputOverride: null);
            }

            DacpacServerMessages.Write(stream, response);
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or ObjectDisposedException)
        {
            // The client went away (its build was cancelled): nothing to answer.
            Log($"client lost: {e.Message}");
        }
        finally
        {
            lock (_gate)
            {
                _busy = false;
                _lastRequest = DateTime.UtcNow;
            }
        }
    }

    /// <summary>
    /// build-dacpac, as the CLI would run it in <paramref name="directory"/>. Not served (the client builds cold) when
    /// the arguments are not a valid build-dacpac, or when the build fails in a way a cold build would not.
    /// </summary>
    private DacpacServerResponse Build(string directory, IReadOnlyList<string> arguments, string? outputOverride)
    {
        var stopwatch = Stopwatch.StartNew();
        string? dacpac = null;
        try
        {
            Directory.SetCurrentDirectory(directory);
            var parsed = MigrateCommand.ParseExpanded(arguments);
            if (parsed.Errors.Count > 0 || parsed.CommandResult.Command.Name != "build-dacpac")
            {
                return new DacpacServerResponse(false, 0, "");
            }

            var output = new StringWriter();
            var reporter = new Reporter(output);
            int exitCode;
            try
            {
                var options = Verbs.DacpacBuildOptions(parsed);
                dacpac = Path.GetFullPath(options.OutputPath);
                Log($"building {dacpac}{(outputOverride is null ? "" : " (priming)")}");
                var model = _models.For(dacpac, options.Platform ?? SqlServerPlatform.Default);
                var updates = model.Updates;
                new DacpacBuilder(reporter).Build(outputOverride is null ? options : options with { OutputPath = outputOverride }, model);
                if (!model.Usable)
                {
                    _models.Forget(dacpac);
                }

                var added = model.Updates == updates ? "no file modelled (the build stopped before the model)" : $"{model.LastAdded} of {options.SchemaFiles.Count} schema file(s) modelled again";
                reporter.Info($"Model server (process {Environment.ProcessId}): {added}.");
                Log(string.Create(CultureInfo.InvariantCulture, $"built {dacpac}: {added}, {reporter.ErrorCount} error(s), {stopwatch.Elapsed.TotalSeconds:0.00} s ({model.LastPhases})"));
                exitCode = reporter.ErrorCount == 0 ? 0 : 1;
            }
            catch (DiagnosticException e)
            {
                reporter.Report(e.Diagnostics);
                exitCode = e.Diagnostics.All(d => d.Code == DiagnosticCodes.InvalidOption) ? 2 : 1;
            }

            return new DacpacServerResponse(true, exitCode, output.ToString());
        }
        catch (Exception e)
        {
            // Whatever went wrong here, the cold build in the client is the answer; this model is not trusted again.
            Log($"build failed, the client builds cold: {e.GetType().Name}: {e.Message}");
            if (dacpac is not null)
            {
                _models.Forget(dacpac);
            }

            return new DacpacServerResponse(false, 0, "");
        }
    }

    /// <summary>The cold client's build once more, its dacpac thrown away: the model and DacFx's code are then warm for the next build.</summary>
    private void Prime(string primeFile)
    {
        string[] arguments;
        try
        {
            arguments = File.ReadAllLines(primeFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        finally
        {
            DeleteQuietly(primeFile);
        }

        lock (_gate)
        {
            _busy = true;
        }

        var scratch = Path.Combine(address.Folder, $"{address.Key}.{Environment.ProcessId}.prime.dacpac");
        try
        {
            Build(arguments[0], arguments[1..], scratch);
        }
        finally
        {
            DeleteQuietly(scratch);
            lock (_gate)
            {
                _busy = false;
                _lastRequest = DateTime.UtcNow;
            }
        }
    }

    private void EndWhenDone(CancellationTokenSource stop)
    {
        lock (_gate)
        {
            if (_busy || stop.IsCancellationRequested)
            {
                return;
            }

            if (DateTime.UtcNow - _lastRequest > idleTimeout)
            {
                Log($"no request for {idleTimeout.TotalSeconds:0} s");
                stop.Cancel();
            }
            else if (_host is { } host && StartTime(host.Id) != host.Started)
            {
                Log($"the MSBuild node {host.Id} ended");
                stop.Cancel();
            }
        }
    }

    private static DateTime? StartTime(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return process.HasExited ? null : process.StartTime;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private void Log(string message)
    {
        try
        {
            lock (_models)
            {
                _log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} {message}"));
            }
        }
        catch (IOException)
        {
        }
    }

    private static void DeleteQuietly(string? path)
    {
        try
        {
            if (path is not null)
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
