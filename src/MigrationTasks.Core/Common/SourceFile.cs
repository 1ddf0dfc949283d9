using System.Text;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Common;

/// <summary>
/// A script's path (for diagnostics) and its exact bytes, read once. The runner takes a release's scripts from the
/// bytes its verifier hashed, so that a file changed on disk after verification can never be what runs.
/// </summary>
public sealed class SourceFile(string path, byte[] bytes)
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    /// <summary>The path as given (absolute, or relative to the project), used in diagnostics.</summary>
    public string Path { get; } = path;

    /// <summary>The exact bytes, which checksums cover.</summary>
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    /// <summary>The bytes as UTF-8 text, a leading byte order mark dropped.</summary>
    public string Text => new UTF8Encoding(false).GetString(Bytes.Span[(Bytes.Span.StartsWith(Utf8Bom) ? Utf8Bom.Length : 0)..]);

    /// <summary>Reads a file once; MIG2006 at the file when it cannot be read.</summary>
    public static SourceFile Read(string path)
    {
        try
        {
            return new SourceFile(path, File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.UnreadableFile, $"cannot read the file: {e.Message}", path));
        }
    }

    /// <summary>Reads every file, reporting every unreadable one together.</summary>
    public static IReadOnlyList<SourceFile> ReadAll(IEnumerable<string> paths)
    {
        var files = new List<SourceFile>();
        var problems = new List<Diagnostic>();
        foreach (var path in paths)
        {
            try
            {
                files.Add(Read(path));
            }
            catch (DiagnosticException e)
            {
                problems.AddRange(e.Diagnostics);
            }
        }

        return problems.Count > 0 ? throw new DiagnosticException(problems) : files;
    }
}
