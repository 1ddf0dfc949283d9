namespace MigrationTasks.Engines;

/// <summary>One row of the engine's history table (<c>migrationtasks.history</c>).</summary>
/// <param name="Version">Canonical version, null for repeatable migrations.</param>
/// <param name="AppliedStatementsChecksum">See <see cref="StatementChecksum"/>: lets a half-applied migration resume
/// after its failing statement was fixed, as long as the statements that already ran are unchanged.</param>
/// <param name="DeployId">The production deploy attempt that applied it (<see cref="DeployAttempt.Id"/>), or null.</param>
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
    string? Error,
    string? DeployId = null)
{
    /// <summary>
    /// The row under the reader, its columns in the order of the record's parameters (both engines' history
    /// queries select them so, deploy_id last): one mapping for every engine.
    /// </summary>
    public static HistoryEntry Read(System.Data.Common.DbDataReader reader) => new(
        reader.GetInt64(0),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetInt32(5),
        reader.GetInt32(6),
        reader.GetString(7),
        HistoryOutcomeText.Parse(reader.GetString(8)),
        reader.GetFieldValue<DateTimeOffset>(9),
        reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
        reader.IsDBNull(11) ? null : reader.GetString(11),
        reader.FieldCount > 12 && !reader.IsDBNull(12) ? reader.GetString(12) : null);
}
