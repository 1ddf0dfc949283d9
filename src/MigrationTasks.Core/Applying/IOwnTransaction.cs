namespace MigrationTasks.Applying;

/// <summary>
/// One migration's own transaction (see <see cref="IMigrationSession.BeginTransactionAsync"/>). Disposing it
/// without <see cref="CommitAsync"/> rolls it back.
/// </summary>
public interface IOwnTransaction : IMigrationTransaction, IAsyncDisposable
{
    Task CommitAsync(CancellationToken cancellationToken);

    /// <summary>
    /// After a failure or a cancellation: rolls the migration back. An engine may keep inside the transaction what
    /// must outlive the migration (PostgreSQL: the record of what a deploy wrote, which a later restore needs), and
    /// gives up quietly when its session is gone: the server has rolled back then.
    /// </summary>
    Task RollBackAsync();
}
