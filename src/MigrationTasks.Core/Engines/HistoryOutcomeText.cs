namespace MigrationTasks.Engines;

/// <summary>
/// The one mapping between <see cref="HistoryOutcome"/> and the text every engine's history table stores in its
/// <c>outcome</c> column. The text is the stored format: databases written by earlier versions hold it, so it never
/// changes; the constants are for SQL that names an outcome (a filtered index, a CHECK).
/// </summary>
public static class HistoryOutcomeText
{
    public const string Success = "success";

    public const string Failed = "failed";

    public const string Running = "running";

    /// <summary>Every outcome's text, in the enum's order: for the engines' CHECK constraints.</summary>
    public static IEnumerable<string> All => Enum.GetValues<HistoryOutcome>().Select(Of);

    public static string Of(HistoryOutcome outcome) => outcome switch
    {
        HistoryOutcome.Success => Success,
        HistoryOutcome.Failed => Failed,
        HistoryOutcome.Running => Running,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    /// <summary>The outcome a column holds; any case, as the history has always been read.</summary>
    public static HistoryOutcome Parse(string text) => text.ToLowerInvariant() switch
    {
        Success => HistoryOutcome.Success,
        Failed => HistoryOutcome.Failed,
        Running => HistoryOutcome.Running,
        _ => throw new FormatException($"'{text}' is not a history outcome ({string.Join(", ", All)})."),
    };
}
