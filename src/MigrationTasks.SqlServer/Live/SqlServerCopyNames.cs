namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The names a database copy is made under: <c>&lt;db&gt;_mtcopy_&lt;suffix&gt;</c> for the database, and a file
/// system-safe stem for its backup and data files. The marker makes a copy that a killed build left behind
/// recognisable on the server.
/// </summary>
internal static class SqlServerCopyNames
{
    public const string Marker = "_mtcopy_";
    private const int MaxNameLength = 128;
    private const int FileStemPrefixLength = 40;

    /// <summary>A new random suffix: eight hex digits, so that two copies of one database never share a name.</summary>
    public static string NewSuffix() => Guid.NewGuid().ToString("N")[..8];

    /// <summary><c>&lt;db&gt;_mtcopy_&lt;suffix&gt;</c>, the source's name cut short (never inside a surrogate pair) to fit 128 characters.</summary>
    public static string CopyName(string database, string suffix)
    {
        var tail = Marker + suffix;
        return Shorten(database, MaxNameLength - tail.Length) + tail;
    }

    /// <summary>
    /// The stem of the copy's file names: the source's name in ASCII letters, digits, '-' and '_' only (a database
    /// name may hold characters no file system takes, such as '/', ':' or '*'), cut short so paths stay well under
    /// the 260 characters sys.master_files holds.
    /// </summary>
    public static string FileStem(string database, string suffix)
    {
        var safe = new string([.. database.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
        return safe[..Math.Min(safe.Length, FileStemPrefixLength)] + Marker + suffix;
    }

    private static string Shorten(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }

        return text[..(char.IsHighSurrogate(text[length - 1]) ? length - 1 : length)];
    }
}
