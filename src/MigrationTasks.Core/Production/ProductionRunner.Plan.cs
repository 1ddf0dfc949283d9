using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Production.Steps;
using MigrationTasks.Release;

namespace MigrationTasks.Production;

// `migrate plan`: what a deploy of the package would do, read-only.
public sealed partial class ProductionRunner
{
    /// <summary>
    /// <c>migrate plan</c>: read-only. Where production stands against the package, what would run (the exact SQL)
    /// and whether the pre-deployment checks pass. Succeeded when a deploy would go ahead (or is already done).
    /// </summary>
    public async Task<RunnerExitCode> PlanAsync(ReleaseToDeploy release, string connectionVariable, TextWriter sql, CancellationToken cancellationToken)
    {
        var migrations = MigrationSource.Prepare(engine, release.Migrations).Where(m => m.File.Kind != MigrationKind.Undo).ToList();
        await using var database = await ConnectAsync(connectionVariable, cancellationToken);
        if (await database.WhyReadOnlyAsync(cancellationToken) is { } readOnly)
        {
            reporter.Report(Diagnostic.Error(DiagnosticCodes.ReadOnlyTarget, $"{database.DisplayName} cannot take changes: {readOnly}; a deploy would be refused."));
            return RunnerExitCode.Refused;
        }

        var history = await database.ReadHistoryAsync(cancellationToken);
        var files = migrations.Select(m => m.File).ToList();
        var resumption = DeployResumption.Decide(release, files, await database.ReadDeployAttemptsAsync(cancellationToken), history);
        if (resumption.Kind == ResumeKind.NeedsPerson)
        {
            reporter.Report(Diagnostic.Error(DiagnosticCodes.EarlierDeployUnfinished, resumption.Reason + " A deploy would run nothing."));
            return RunnerExitCode.NeedsAttention;
        }

        if (resumption.Kind is not (ResumeKind.Deploy or ResumeKind.AlreadyDeployed))
        {
            reporter.Info($"{database.DisplayName}: a deploy would resume an earlier attempt: {resumption.Reason}");
            return RunnerExitCode.Succeeded;
        }

        var verdict = PreStateCheck.Judge(release, files, history, await database.ReadSchemaAsync(cancellationToken), database.Name, engine.IsBuiltIn);
        switch (verdict.Kind)
        {
            case PreStateKind.AlreadyDeployed:
                reporter.Info(resumption.Kind == ResumeKind.AlreadyDeployed
                    ? $"{database.DisplayName}: {release.PackageId} {release.Version} is already deployed and verified; a deploy would do nothing."
                    : $"{database.DisplayName}: every migration of {release.PackageId} {release.Version} is applied, but no deploy verified it; a deploy would run Verify/.");
                return RunnerExitCode.Succeeded;
            case PreStateKind.Different:
                reporter.Report(Diagnostic.Error(
                    DiagnosticCodes.PreStateMismatch,
                    $"{database.DisplayName} is not in the state {release.PackageId} {release.Version} was built for; a deploy would be refused: {string.Join("; ", verdict.Differences)}."));
                return RunnerExitCode.Refused;
        }

        var oneTransaction = migrations.All(m => m.Script.InTransaction);
        reporter.Info($"{database.DisplayName}: in the state the package expects. A deploy would back it up, then apply {migrations.Count} migration(s)" +
                      (oneTransaction ? " in one transaction with the post-state check and Verify/ (a failure anywhere rolls all of it back):" : ", each committing on its own (a failure restores the backup):"));
        foreach (var (file, script) in migrations)
        {
            sql.WriteLine();
            sql.WriteLine($"-- {file.ScriptName}: {script.Statements.Count} statement(s), " +
                          (script.InTransaction ? "in one transaction" : $"outside a transaction, statement by statement ({script.OutsideTransactionReason})"));
            sql.WriteLine(script.Text.TrimEnd());
        }

        sql.WriteLine();
        var checks = await new Testing.DatabaseTestRunner(engine, reporter, Testing.QueryKind.ProductionCheck).RunAsync(database, release.Checks, cancellationToken);
        return checks.All(c => c.Passed) ? RunnerExitCode.Succeeded : RunnerExitCode.Refused;
    }
}
