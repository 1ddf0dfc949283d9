using System.Text;

namespace MigrationTasks.Cli.ModelServer;

/// <summary>What a request asks of the model server.</summary>
internal enum DacpacServerRequestKind : byte
{
    /// <summary>Run <c>build-dacpac</c> with the request's arguments.</summary>
    Build = 0,

    /// <summary>Stop now (tests, and `migrate model-server --stop`).</summary>
    Stop = 1,
}

/// <param name="Key">The address key the client computed: a server of another key answers nothing.</param>
/// <param name="Directory">The client's working folder, against which relative paths in the arguments resolve.</param>
/// <param name="HostProcessId">The MSBuild node that ran the client when it is one that stays (node reuse), else 0.</param>
/// <param name="Arguments">The build-dacpac command line, response files expanded.</param>
internal sealed record DacpacServerRequest(string Key, DacpacServerRequestKind Kind, string Directory, int HostProcessId, IReadOnlyList<string> Arguments);

/// <param name="Served">False: the server did not build (another key, a request it does not take, a failure of its own): build cold.</param>
/// <param name="Output">Everything the build printed, as a cold build prints it.</param>
internal sealed record DacpacServerResponse(bool Served, int ExitCode, string Output);

/// <summary>
/// The two messages on the socket, each written whole with a length-prefixed binary writer (no JSON: the client is on
/// every build's path, and a serializer's start-up would cost more than the exchange).
/// </summary>
internal static class DacpacServerMessages
{
    private const string Magic = "migrationtasks-model-server/1";

    public static void Write(Stream stream, DacpacServerRequest request)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(request.Key);
        writer.Write((byte)request.Kind);
        writer.Write(request.Directory);
        writer.Write(request.HostProcessId);
        writer.Write(request.Arguments.Count);
        foreach (var argument in request.Arguments)
        {
            writer.Write(argument);
        }
    }

    /// <summary>The request, or null when the bytes are not one (another program, another protocol version).</summary>
    public static DacpacServerRequest? ReadRequest(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
        {
            return null;
        }

        var key = reader.ReadString();
        var kind = (DacpacServerRequestKind)reader.ReadByte();
        var directory = reader.ReadString();
        var host = reader.ReadInt32();
        var count = reader.ReadInt32();
        if (count is < 0 or > 1_000_000)
        {
            return null;
        }

        var arguments = new string[count];
        for (var i = 0; i < count; i++)
        {
            arguments[i] = reader.ReadString();
        }

        return new DacpacServerRequest(key, kind, directory, host, arguments);
    }

    public static void Write(Stream stream, DacpacServerResponse response)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(response.Served);
        writer.Write(response.ExitCode);
        writer.Write(response.Output);
    }

    public static DacpacServerResponse ReadResponse(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadString() != Magic)
        {
            throw new IOException("the model server answered in a protocol this CLI does not speak.");
        }

        return new DacpacServerResponse(reader.ReadBoolean(), reader.ReadInt32(), reader.ReadString());
    }
}
