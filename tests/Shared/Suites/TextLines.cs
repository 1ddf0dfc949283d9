namespace MigrationTasks.Tests.Suites;

/// <summary>Where a piece of a script stands, for expectations that hold whatever way the engine splits the script.</summary>
internal static class TextLines
{
    /// <summary>The 1-based line of <paramref name="text"/> where <paramref name="fragment"/> first stands.</summary>
    public static int LineOf(string text, string fragment) => text[..text.IndexOf(fragment, StringComparison.Ordinal)].Count(c => c == '\n') + 1;
}
