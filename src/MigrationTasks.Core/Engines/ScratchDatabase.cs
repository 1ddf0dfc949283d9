using MigrationTasks.Schema;

namespace MigrationTasks.Engines;

/// <summary>
/// A database an engine made for one validation (an empty shadow, or a copy to rehearse on); disposing it drops it.
/// <paramref name="note"/> is said after its name, e.g. that the copy's backup file was left on the server.
/// </summary>
public sealed class ScratchDatabase(ITargetDatabase database, Func<Task> drop, string kind = "shadow", string? note = null) : ITargetDatabase
{
    public string Name => database.Name;

    public string DisplayName => note is null ? $"{kind} database {database.DisplayName}" : $"{kind} database {database.DisplayName} ({note})";

    public Task<IDeployLock> AcquireDeployLockAsync(TimeSpan maxWait, CancellationToken cancellationToken) =>
        database.AcquireDeployLockAsync(maxWait, cancellationToken);

    public Task<string?> WhyReadOnlyAsync(CancellationToken cancellationToken) => database.WhyReadOnlyAsync(cancellationToken);

    public Task<IReadOnlyList<DeployAttempt>> ReadDeployAttemptsAsync(CancellationToken cancellationToken) => database.ReadDeployAttemptsAsync(cancellationToken);

    public Task RecordDeployAttemptAsync(DeployAttempt attempt, CancellationToken cancellationToken) => database.RecordDeployAttemptAsync(attempt, cancellationToken);

    public Task<int> EndOrphanedDeploySessionsAsync(CancellationToken cancellationToken) => database.EndOrphanedDeploySessionsAsync(cancellationToken);

    public Task<IReleaseTransaction> BeginReleaseTransactionAsync(ApplyContext context, CancellationToken cancellationToken) =>
        database.BeginReleaseTransactionAsync(context, cancellationToken);

    public Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken) => database.ReadHistoryAsync(cancellationToken);

    public Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken) =>
        database.ApplyAsync(step, context, cancellationToken);

    public Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken) => database.ReadSchemaAsync(cancellationToken);

    public Task<IRehearsal> BeginRehearsalAsync(CancellationToken cancellationToken) => database.BeginRehearsalAsync(cancellationToken);

    public Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken) => database.RunTestAsync(test, cancellationToken);

    public Task<(ITargetDatabase? Shadow, string? Reason)> TryCreateShadowAsync(CancellationToken cancellationToken) =>
        Task.FromResult<(ITargetDatabase?, string?)>((null, "a shadow database has no shadow of its own"));

    public Task<DatabaseBackup> BackupAsync(string backupDirectory, bool hashRows, CancellationToken cancellationToken) => database.BackupAsync(backupDirectory, hashRows, cancellationToken);

    public Task RestoreAsync(DatabaseBackup backup, RestoreOptions options, CancellationToken cancellationToken) => database.RestoreAsync(backup, options, cancellationToken);

    public Task<(ITargetDatabase? Copy, string? Reason)> TryCreateCopyAsync(CancellationToken cancellationToken) => database.TryCreateCopyAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await database.DisposeAsync();
        await drop();
    }
}
