using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using MigrationTasks.Common;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.Cli.ModelServer;

/// <summary>
/// Where the model server of this very CLI listens: a Unix domain socket in a folder of the user's own (mode 700 in
/// the temp folder), named by a hash of the CLI's path and the build of its assemblies. Another version or another
/// copy of the CLI has another name, so a server never answers for code it does not run, and a rebuilt CLI at the
/// same path starts a server of its own.
/// </summary>
internal sealed record DacpacServerAddress(string Folder, string Key)
{
    public string Socket => Path.Combine(Folder, Key + ".sock");

    /// <summary>Held by the running server for its whole life, so that only one server of a key binds its socket.</summary>
    public string LockFile => Path.Combine(Folder, Key + ".lock");

    /// <summary>What the server did (paths, counts, times; never a file's content), for whoever wonders what it does.</summary>
    public string LogFile => Path.Combine(Folder, Key + ".log");

    public static DacpacServerAddress ForThisCli() => new(DefaultFolder(), KeyOf(typeof(DacpacServerAddress).Assembly.Location));

    public static string DefaultFolder() =>
        Environment.GetEnvironmentVariable("MIGRATIONTASKS_MODEL_SERVER_DIR") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Path.GetTempPath(), "migrationtasks-" + Environment.UserName);

    /// <summary>The CLI's path and the module version ids (new at every compile) of the assemblies the server runs.</summary>
    public static string KeyOf(string cliPath)
    {
        Assembly[] assemblies = [typeof(DacpacServerAddress).Assembly, typeof(Sha256).Assembly, typeof(DacpacBuilder).Assembly];
        var identity = string.Join("|", [Path.GetFullPath(cliPath), Environment.UserName, .. assemblies.Select(a => a.ManifestModule.ModuleVersionId.ToString("N"))]);
        return "model-" + Sha256.Hex(identity)[..16];
    }

    /// <summary>The folder, made private to the user; false when it is not (another user made it, or it is open to others).</summary>
    public bool EnsurePrivateFolder()
    {
        // A socket's path has room for about 100 bytes on every platform.
        if (Socket.Length > 100 || !System.Net.Sockets.Socket.OSSupportsUnixDomainSockets)
        {
            return false;
        }

        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            Directory.CreateDirectory(Folder);
            return true;
        }

        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(Folder, Private);
        return File.GetUnixFileMode(Folder) == Private;
    }

    public UnixDomainSocketEndPoint EndPoint => new(Socket);
}
