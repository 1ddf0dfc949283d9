namespace MigrationTasks.Engines;

/// <summary>
/// The engine's deploy lock, held on a session of its own for the whole deploy. A connection reaper or a DBA can end
/// that session, and with it the lock, without the runner noticing: the runner proves it still holds the lock before
/// each step, and the engine proves it again inside every migration's transaction.
/// </summary>
public interface IDeployLock : IAsyncDisposable
{
    /// <summary>Throws <see cref="DeployLockLostException"/> when the lock's session is gone or no longer holds it.</summary>
    Task ProveHeldAsync(CancellationToken cancellationToken);
}
