namespace MigrationTasks.Engines;

/// <summary>
/// SQL that a PostgreSQL restore runs inside its own transaction, so that it commits or rolls back with the restore.
/// An error in either (e.g. a RAISE) rolls the whole restore back: the restore fails with MIG6006 and the error's
/// text quoted, and the database is exactly as it was.
/// </summary>
/// <param name="BeforeDrop">Runs before anything is dropped: a guard that may refuse the restore.</param>
/// <param name="BeforeCommit">Runs after the data is loaded and its rows proven, just before COMMIT: to record the outcome atomically.</param>
/// <remarks>
/// Both are written into psql's input as they are: SQL statements ending with semicolons, no transaction control
/// (BEGIN, COMMIT, ROLLBACK would end the restore's transaction) and no psql meta-commands. BeforeCommit runs after
/// pg_restore's script, whose settings stay in force: an empty search_path, so every name must be schema-qualified.
/// </remarks>
public sealed record RestoreHooks(string BeforeDrop, string BeforeCommit);
