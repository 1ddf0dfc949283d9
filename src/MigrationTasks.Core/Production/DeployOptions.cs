namespace MigrationTasks.Production;

/// <summary>How the runner reaches production and where it keeps what it writes.</summary>
/// <param name="ConnectionVariable">The environment variable holding production's connection string (never the string itself).</param>
/// <param name="BackupDirectory">Where the pre-deploy backup goes; checked writable before anything runs.</param>
/// <param name="Window">When set, a deploy outside it is refused.</param>
/// <param name="MonitorPeriod">When positive, Verify/ runs again after this long before the run closes.</param>
/// <param name="HashRows">Also hash every table's contents at backup time, so a restore is proven row for row and not
/// only by schema and row counts; costs a second scan of every row (about 1.6x the backup on a quiet server).</param>
public sealed record DeployOptions(
    string ConnectionVariable,
    string BackupDirectory,
    string ReportDirectory,
    TimeSpan LockWait,
    MaintenanceWindow? Window = null,
    TimeSpan MonitorPeriod = default,
    bool HashRows = false);
