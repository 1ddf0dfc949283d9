using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;

namespace MigrationTasks.Production.Steps;

/// <summary>What the production steps share about one deploy: the verified release, where it goes, and what was taken.</summary>
internal sealed class Deployment(
    ReleaseToDeploy release,
    IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations,
    DeployOptions options,
    ITargetDatabase database,
    IDeployLock deployLock)
{
    public ReleaseToDeploy Release { get; } = release;

    /// <summary>The release's migrations in the order they run (undo scripts left out).</summary>
    public IReadOnlyList<(MigrationFile File, PreparedScript Script)> Migrations { get; } = migrations;

    public DeployOptions Options { get; } = options;

    public ITargetDatabase Database { get; } = database;

    public IDeployLock Lock { get; } = deployLock;

    /// <summary>The schema before this run changed anything: what a rollback must leave.</summary>
    public SchemaSnapshot? Before { get; set; }

    /// <summary>The backup taken before migrating (or an earlier run's, when finishing its recovery).</summary>
    public DatabaseBackup? Backup { get; set; }

    /// <summary>How this run's migrations are applied and recorded; set when its deploy attempt starts.</summary>
    public ApplyContext Context { get; set; } = ApplyContext.ForThisMachine();

    /// <summary>Every pending migration can run inside one transaction, and the user did not ask for one per migration.</summary>
    public bool InOneTransaction => !Options.TransactionPerMigration && Migrations.All(m => m.Script.InTransaction);

    /// <summary>Records the attempt's new state; a failure to record is said, not thrown (the run's own outcome matters more).</summary>
    public async Task RecordAsync(DeployRun run, DeployState state, string detail)
    {
        if (run.Attempt is null)
        {
            return;
        }

        run.Attempt = run.Attempt.With(state, detail);
        try
        {
            await Database.RecordDeployAttemptAsync(run.Attempt, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            run.Info($"{Database.DisplayName}: could not record deploy attempt {run.Attempt.Id} as {DeployAttempt.StateName(state)} ({e.Message}); " +
                     "a later run reads the history to find out where it stands.");
        }
    }
}
