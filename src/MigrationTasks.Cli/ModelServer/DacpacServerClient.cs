using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Cli.ModelServer;

/// <summary>
/// build-dacpac's side of the model server: asks the running server of this CLI to build, and after a cold build
/// starts one for the next build. Nothing the server does can fail a build: no server, a server of another version,
/// one that dies mid-request or answers nonsense, and the CLI builds cold in its own process, as without a server.
/// The environment variable MIGRATIONTASKS_MODEL_SERVER=0 (CI, tests) or --model-server false turns it off.
/// </summary>
internal sealed class DacpacServerClient(DacpacServerAddress address, Reporter reporter)
{
    public const string SwitchVariable = "MIGRATIONTASKS_MODEL_SERVER";

    // A server busy with another project's cold build answers within a minute; one that takes this long is stuck.
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromMinutes(5);

    /// <summary>False when the variable or the option says no.</summary>
    public static bool Enabled(bool option) =>
        option && Environment.GetEnvironmentVariable(SwitchVariable)?.Trim().ToLowerInvariant() is not ("0" or "false" or "off" or "no");

    /// <summary>The server's answer when it built, else null (then build cold).</summary>
    public DacpacServerResponse? TryBuild(IReadOnlyList<string> arguments, int hostProcessId)
    {
        if (!File.Exists(address.Socket))
        {
            return null;
        }

        var request = new DacpacServerRequest(address.Key, DacpacServerRequestKind.Build, Environment.CurrentDirectory, hostProcessId, arguments);
        var connected = false;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(address.EndPoint);
            connected = true;
            socket.ReceiveTimeout = (int)AnswerTimeout.TotalMilliseconds;
            using var stream = new NetworkStream(socket, ownsSocket: false);
            DacpacServerMessages.Write(stream, request);
            var response = DacpacServerMessages.ReadResponse(stream);
            return response.Served ? response : null;
        }
        catch (Exception e) when (e is SocketException or IOException or EndOfStreamException)
        {
            // Refused at connect: a socket file a dead server left, and the next cold build starts a new one. Lost after:
            // the server died or hung mid-request; say so, since the build now takes the cold path's time.
            if (connected)
            {
                reporter.Info($"The model server did not answer ({e.Message}); building in this process.");
            }

            return null;
        }
    }

    /// <summary>
    /// Starts a server in the background, in a session of its own (a Ctrl+C in the build's terminal is not for it),
    /// that first builds <paramref name="arguments"/> once into a scratch file so that the next build finds it warm.
    /// </summary>
    public void Start(IReadOnlyList<string> arguments, TimeSpan idleTimeout)
    {
        try
        {
            if (!address.EnsurePrivateFolder())
            {
                return;
            }

            var prime = Path.Combine(address.Folder, $"{address.Key}.{Guid.NewGuid():N}.prime");
            File.WriteAllLines(prime, [Environment.CurrentDirectory, .. arguments]);
            var command = new List<string>();
            var host = Environment.ProcessPath!;
            command.Add(host);
            if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            {
                command.Add(typeof(DacpacServerClient).Assembly.Location);
            }

            command.AddRange(["model-server", "--idle-timeout", idleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--prime", prime]);
            var setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);
            var info = new ProcessStartInfo(setsid ?? command[0])
            {
                UseShellExecute = false,
                // Pipes of its own that nobody reads: the server writes nothing there, and it must not hold the build's.
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = address.Folder,
            };
            foreach (var argument in setsid is null ? command.Skip(1) : command)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // No server this time: the next build is cold too.
        }
    }

    /// <summary>Asks the server of this CLI to stop; false when none answered.</summary>
    public bool Stop()
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(address.EndPoint);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            DacpacServerMessages.Write(stream, new DacpacServerRequest(address.Key, DacpacServerRequestKind.Stop, "", 0, []));
            return DacpacServerMessages.ReadResponse(stream).Served;
        }
        catch (Exception e) when (e is SocketException or IOException or EndOfStreamException)
        {
            return false;
        }
    }
}
