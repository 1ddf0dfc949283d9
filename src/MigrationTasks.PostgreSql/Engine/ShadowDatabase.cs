using MigrationTasks.Engines;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>A database made for one validation; disposing it drops it.</summary>
internal sealed class ShadowDatabase(PostgresDatabase database, Func<Task> drop) : ITargetDatabase
{
    public string DisplayName => $"shadow database {database.DisplayName}";

    public Task<IAsyncDisposable> AcquireDeployLockAsync(TimeSpan maxWait, CancellationToken cancellationToken) =>
        database.AcquireDeployLockAsync(maxWait, cancellationToken);

    public Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken) =>
        database.ReadHistoryAsync(cancellationToken);

    public Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken) =>
        database.ApplyAsync(step, context, cancellationToken);

    public Task<MigrationTasks.Schema.SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken) =>
        database.ReadSchemaAsync(cancellationToken);

    public Task<IRehearsal> BeginRehearsalAsync(CancellationToken cancellationToken) =>
        database.BeginRehearsalAsync(cancellationToken);

    public Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken) =>
        database.RunTestAsync(test, cancellationToken);

    public Task<(ITargetDatabase? Shadow, string? Reason)> TryCreateShadowAsync(CancellationToken cancellationToken) =>
        Task.FromResult<(ITargetDatabase?, string?)>((null, "a shadow database has no shadow of its own"));

    public async ValueTask DisposeAsync()
    {
        await database.DisposeAsync();
        await drop();
    }
}
