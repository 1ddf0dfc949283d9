using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Production.Steps;

/// <summary>
/// "Create database backup": taken and proven before anything changes; a deploy that cannot back up is refused
/// before it touches the database.
/// </summary>
internal static class CreateBackupStep
{
    /// <summary>The backup, or null after refusing the run (its diagnostics reported).</summary>
    public static async Task<DatabaseBackup?> RunAsync(DeployRun run, Deployment deployment, CancellationToken cancellationToken)
    {
        var backingUp = run.Path.Begin(FlowChart.Backup);
        DatabaseBackup backup;
        try
        {
            backup = await deployment.Database.BackupAsync(deployment.Options.BackupDirectory, deployment.Options.HashRows, cancellationToken);
        }
        catch (DiagnosticException refused)
        {
            run.Path.Fail(backingUp, "no backup, so no migration: " + refused.Diagnostics[0].Message);
            run.Refuse(refused.Diagnostics);
            return null;
        }

        run.Backup = BackupSummary.Of(backup);
        run.Path.Pass(backingUp, $"{backup.Id} ({backup.Bytes:N0} bytes); {backup.Proof}");
        run.Info($"{deployment.Database.DisplayName}: backup {backup.Id} at {backup.DumpPath}; {backup.Proof}.");
        return backup;
    }

    /// <summary>
    /// The backup an earlier attempt took, to finish its recovery; null (said in the report) when it cannot be used.
    /// Its engine is <paramref name="engine"/> (this run's) when its metadata is older than the engine's record.
    /// </summary>
    public static DatabaseBackup? Load(DeployRun run, DeployAttempt attempt, string engine)
    {
        if (attempt.BackupId is null || attempt.BackupDirectory is null)
        {
            return null;
        }

        try
        {
            var backup = DatabaseBackup.Load(attempt.BackupDirectory, attempt.BackupId).TakenBy(engine);
            run.Backup = BackupSummary.Of(backup);
            return backup;
        }
        catch (DiagnosticException unusable)
        {
            run.Report(unusable.Diagnostics[0]);
            return null;
        }
    }
}
