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
