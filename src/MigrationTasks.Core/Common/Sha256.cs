using System.Security.Cryptography;
using System.Text;

namespace MigrationTasks.Common;

/// <summary>Lower-case hex SHA-256, the one hash format of histories, snapshots and manifests.</summary>
public static class Sha256
{
    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public static string Hex(string text) => Hex(Encoding.UTF8.GetBytes(text));

    /// <summary>The hash of a file read as a stream: a runner's assemblies need not be held in memory to be hashed.</summary>
    public static string HexOfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
