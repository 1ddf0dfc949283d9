namespace MigrationTasks.Engines;

/// <summary>
/// Migrations applied inside one transaction that is rolled back when the rehearsal is disposed: staging shows
/// whether they would succeed on its data, and how long they take, and keeps nothing.
/// </summary>
public interface IRehearsal : IAsyncDisposable
{
    /// <summary>Applies a transactional migration inside the rehearsal; throws <see cref="ScriptFailedException"/>.</summary>
    Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken);
}
