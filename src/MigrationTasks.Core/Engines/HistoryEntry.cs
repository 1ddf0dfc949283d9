namespace MigrationTasks.Engines;

public enum HistoryOutcome
{
    /// <summary>Applied completely.</summary>
    Success,

    /// <summary>Failed; <see cref="HistoryEntry.StatementsApplied"/> says how far a non-transactional one got.</summary>
    Failed,

    /// <summary>Started and not finished: the process died while a non-transactional migration ran.</summary>
    Running,
}

/// <summary>One row of the engine's history table (<c>migrationtasks.history</c>).</summary>
/// <param name="Version">Canonical version, null for repeatable migrations.</param>
/// <param name="AppliedStatementsChecksum">See <see cref="StatementChecksum"/>: lets a half-applied migration resume
/// after its failing statement was fixed, as long as the statements that already ran are unchanged.</param>
public sealed record HistoryEntry(
    long Id,
    string? Version,
    string Description,
    string Script,
    string Checksum,
    int StatementsApplied,
    int StatementsTotal,
    string AppliedStatementsChecksum,
    HistoryOutcome Outcome,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    string? Error);
