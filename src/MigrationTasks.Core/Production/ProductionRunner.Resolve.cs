using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Production.Steps;
using MigrationTasks.Release;

namespace MigrationTasks.Production;

// `migrate resolve`: a person closes a deploy attempt that needed one.
public sealed partial class ProductionRunner
{
    /// <summary>
    /// <c>migrate resolve</c>: a person says that a deploy attempt which needed one (or did not finish) has been dealt
    /// with. It records who and why, and closes the attempt, so that deploys run again; it changes nothing else.
    /// </summary>
    public async Task<RunnerExitCode> ResolveAsync(string connectionVariable, string reason, TimeSpan lockWait, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.InvalidOption, "--reason is required: say what was done to the database, for the record."));
        }

        await using var database = await ConnectAsync(connectionVariable, cancellationToken);
        await using var deployLock = await database.AcquireDeployLockAsync(lockWait, cancellationToken);
        var open = (await database.ReadDeployAttemptsAsync(cancellationToken)).Where(a => a.IsOpen).ToList();
        if (open.Count == 0)
        {
            reporter.Info($"{database.DisplayName}: no deploy attempt is open; nothing to resolve.");
            return RunnerExitCode.Succeeded;
        }

        foreach (var attempt in open)
        {
            var who = Environment.UserName;
            await database.RecordDeployAttemptAsync(
                attempt.With(DeployState.Resolved, $"resolved by {who} on {Environment.MachineName} at {DateTimeOffset.UtcNow:u}: {reason} (it was {DeployAttempt.StateName(attempt.State)}: {attempt.Detail})"),
                cancellationToken);
            reporter.Info($"{database.DisplayName}: deploy attempt {attempt.Id} of {attempt.PackageId} {attempt.PackageVersion} ({DeployAttempt.StateName(attempt.State)}) is resolved: {reason}");
        }

        return RunnerExitCode.Succeeded;
    }
}
