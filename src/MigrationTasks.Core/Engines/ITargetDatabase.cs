namespace MigrationTasks.Engines;

/// <summary>One database of an engine, open for the flow's steps.</summary>
public interface ITargetDatabase : IAsyncDisposable
{
    /// <summary>Server and database, never credentials: safe for output.</summary>
    string DisplayName { get; }

    /// <summary>The database's own name on its server.</summary>
    string Name { get; }

    /// <summary>
    /// Takes the engine's deploy lock, waiting at most <paramref name="maxWait"/>; throws a MIG7002 diagnostic naming
    /// the holder when it stays taken. Disposing the result releases it. While it is held, every migration this
    /// database applies proves the lock inside its transaction (<see cref="DeployLockLostException"/> otherwise).
    /// </summary>
    Task<IDeployLock> AcquireDeployLockAsync(TimeSpan maxWait, CancellationToken cancellationToken);

    /// <summary>
    /// Why the database cannot take changes now (a hot standby, a read-only database or default transaction mode),
    /// or null when it can: a deploy must learn this before it backs anything up.
    /// </summary>
    Task<string?> WhyReadOnlyAsync(CancellationToken cancellationToken);

    /// <summary>Every production deploy attempt recorded in the database, oldest first; empty before the first.</summary>
    Task<IReadOnlyList<DeployAttempt>> ReadDeployAttemptsAsync(CancellationToken cancellationToken);

    /// <summary>Records an attempt (new, or a new state of one recorded before) in a transaction of its own.</summary>
    Task RecordDeployAttemptAsync(DeployAttempt attempt, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the sessions that earlier, dead runs of the production runner left on the server (a runner killed
    /// mid-statement leaves its backend running, holding locks, until the statement ends). Called only under the
    /// deploy lock, when no other runner can be alive. Returns how many were ended.
    /// </summary>
    Task<int> EndOrphanedDeploySessionsAsync(CancellationToken cancellationToken);

    /// <summary>Begins a release transaction (see <see cref="IReleaseTransaction"/>) on a session of its own.</summary>
    Task<IReleaseTransaction> BeginReleaseTransactionAsync(ApplyContext context, CancellationToken cancellationToken);

    /// <summary>Every history row, oldest first; empty when the history table does not exist yet.</summary>
    Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Applies one migration and records it in the history. A transactional one commits whole or not at all; a
    /// non-transactional one records its progress after every statement. Throws <see cref="ScriptFailedException"/>
    /// after recording the failure.
    /// </summary>
    Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken);

    /// <summary>The database's schema as a canonical snapshot, the tool's own history schema left out.</summary>
    Task<Schema.SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken);

    /// <summary>Starts a rehearsal: a transaction for transactional migrations that is rolled back on dispose.</summary>
    Task<IRehearsal> BeginRehearsalAsync(CancellationToken cancellationToken);

    /// <summary>Runs a database test inside a transaction that is rolled back.</summary>
    Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken);

    /// <summary>
    /// Creates an empty database beside this one for shadow validation (dropped when the result is disposed), or
    /// returns null with the reason when the server does not allow it.
    /// </summary>
    Task<(ITargetDatabase? Shadow, string? Reason)> TryCreateShadowAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Backs the database up into <paramref name="backupDirectory"/>: first proves the folder can be written
    /// (MIG6001, before any dump), then dumps, proves the dump readable (MIG6002), and records the schema hash and
    /// every table's row count (and with <paramref name="hashRows"/> a hash of its contents: a stronger proof for the
    /// restore that costs a second scan of every row), all of the same instant, in <c>&lt;Id&gt;.json</c> beside the dump.
    /// MIG6003 when the engine's backup programs are missing, MIG6005 when the dump fails.
    /// </summary>
    Task<DatabaseBackup> BackupAsync(string backupDirectory, bool hashRows, CancellationToken cancellationToken);

    /// <summary>
    /// Puts the database back to the backup, atomically: everything is dropped and recreated from the dump in one
    /// transaction, so a restore that fails (MIG6006) leaves the database exactly as it was. Other sessions of the
    /// database are ended first, except the one holding the MigrationTasks deploy lock: hold no other connection to
    /// it across a restore. Afterwards the schema hash and every table's rows and content hash are compared with the
    /// backup's (MIG6004 with the differences). MIG6007 when the dump changed since it was taken. Unless
    /// <see cref="RestoreOptions.DiscardLaterWrites"/>, a restore that would discard what other sessions wrote since
    /// the backup is not done (<see cref="WritesSinceBackupException"/>), and where the engine cannot tell, it says so.
    /// </summary>
    Task RestoreAsync(DatabaseBackup backup, RestoreOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a new database beside this one holding a copy of its schema and data (dropped when the result is
    /// disposed), e.g. to rehearse migrations that cannot run in a transaction; or returns null with the reason
    /// when it cannot be made.
    /// </summary>
    Task<(ITargetDatabase? Copy, string? Reason)> TryCreateCopyAsync(CancellationToken cancellationToken);
}
