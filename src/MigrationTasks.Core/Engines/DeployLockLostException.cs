namespace MigrationTasks.Engines;

/// <summary>
/// The deploy lock is no longer this run's (its session was ended), or another deploy applied the same migration
/// while this one ran. Nothing more may run: another deploy may be working on the database.
/// </summary>
public sealed class DeployLockLostException(string message, Exception? inner = null) : Exception(message, inner);
