using MigrationTasks.Schema;

namespace MigrationTasks.Engines;

/// <summary>
/// A whole release in one transaction: every migration, the post-state check and the Verify/ queries run inside it,
/// and it commits together with the deploy attempt's "verified" record. A failure anywhere, a kill or a lost
/// connection before the commit leaves the database exactly as it was, with no backup to restore. Disposing it
/// without <see cref="CommitAsync"/> rolls it back.
/// </summary>
public interface IReleaseTransaction : IAsyncDisposable
{
    /// <summary>
    /// Applies a migration inside the transaction and claims its history row first: a second deploy applying the
    /// same migration concurrently fails on that claim (<see cref="DeployLockLostException"/>), as does one whose
    /// deploy lock is gone. A failing statement throws <see cref="ScriptFailedException"/>.
    /// </summary>
    Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken);

    /// <summary>The schema as the transaction sees it (the migrations' changes included).</summary>
    Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken);

    /// <summary>Runs a read query (Verify/) inside the transaction; whatever it changes is undone, an error included.</summary>
    Task<TestRun> RunQueryAsync(PreparedScript query, CancellationToken cancellationToken);

    /// <summary>Records the attempt (e.g. verified) inside the transaction, proves the lock once more, and commits.</summary>
    Task CommitAsync(DeployAttempt attempt, CancellationToken cancellationToken);
}
