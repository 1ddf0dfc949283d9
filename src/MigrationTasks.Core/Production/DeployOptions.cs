namespace MigrationTasks.Production;

/// <summary>How the runner reaches production and where it keeps what it writes.</summary>
/// <param name="ConnectionVariable">The environment variable holding production's connection string (never the string itself).</param>
/// <param name="BackupDirectory">Where the pre-deploy backup goes; checked writable before anything runs.</param>
/// <param name="ReportDirectory">Where report.json and report.md go: a folder per run inside it, and the latest beside them.</param>
/// <param name="LockWait">How long to wait for another deploy's lock (MigrationLockTimeout).</param>
/// <param name="Window">When set, a deploy outside it is refused.</param>
/// <param name="MonitorPeriod">When positive, Verify/ runs again after this long before the run closes.</param>
/// <param name="HashRows">Also hash every table's contents at backup time, so a restore is proven row for row and not
/// only by schema and row counts; costs a second scan of every row (about 1.6x the backup on a quiet server).</param>
/// <param name="StatementLocks">How long one statement may wait for a table lock, and how often the runner tries again.</param>
/// <param name="TransactionPerMigration">Commit each migration on its own, as before, instead of the whole release in
/// one transaction (the default whenever every pending migration can run in one).</param>
/// <param name="DiscardLaterWrites">Restore the backup even when other sessions wrote since it was taken, discarding
/// their writes; without it such a restore is not done and the run ends with exit code 3.</param>
public sealed record DeployOptions(
    string ConnectionVariable,
    string BackupDirectory,
    string ReportDirectory,
    TimeSpan LockWait,
    MaintenanceWindow? Window = null,
    TimeSpan MonitorPeriod = default,
    bool HashRows = false,
    LockWaitPolicy? StatementLocks = null,
    bool TransactionPerMigration = false,
    bool DiscardLaterWrites = false)
{
    public LockWaitPolicy Locks => StatementLocks ?? LockWaitPolicy.Default;
}
