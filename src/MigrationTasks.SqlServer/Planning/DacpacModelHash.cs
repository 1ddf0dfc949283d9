using System.IO.Packaging;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// The SHA-256 of a dacpac's model (its <c>/model.xml</c> part): the same schema built twice gives the same hash,
/// while the dacpac file itself differs (its Origin.xml records when and by what it was built).
/// </summary>
public static class DacpacModelHash
{
    public static string Of(string dacpac, string code)
    {
        try
        {
            using var package = Package.Open(dacpac, FileMode.Open, FileAccess.Read, FileShare.Read);
            var part = package.GetPart(new Uri("/model.xml", UriKind.Relative));
            using var stream = part.GetStream();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return Common.Sha256.Hex(buffer.ToArray());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            throw new DiagnosticException(Diagnostic.Error(code, $"the dacpac's model cannot be read: {e.Message}", dacpac));
        }
    }
}
