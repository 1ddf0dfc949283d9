using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Testing;

namespace MigrationTasks.Production.Steps;

/// <summary>"Checks pass on production?": the package's Checks/ run (each rolled back); any row or error refuses the deploy.</summary>
internal sealed class ChecksStep(IMigrationEngine engine, Reporter reporter)
{
    /// <summary>True when the deploy may go on; false after refusing it.</summary>
    public async Task<bool> RunAsync(DeployRun run, Deployment deployment, CancellationToken cancellationToken)
    {
        if (deployment.Release.Checks.Count == 0)
        {
            run.Path.Skip(FlowChart.Checks, "the package has no Checks/");
            return true;
        }

        var checking = run.Path.Begin(FlowChart.Checks);
        var checks = await new DatabaseTestRunner(engine, reporter, QueryKind.ProductionCheck).RunAsync(deployment.Database, deployment.Release.Checks, cancellationToken);
        var failed = checks.Where(c => !c.Passed).ToList();
        if (failed.Count > 0)
        {
            run.Path.Fail(checking, $"{failed.Count} of {checks.Count} check(s) failed: {string.Join(", ", failed.Select(f => Path.GetFileName(f.Path)))}");
            run.Diagnostics.AddRange(failed.Select(f => f.Failure!));
            run.Refuse();
            return false;
        }

        run.Path.Pass(checking, $"{checks.Count} check(s) passed");
        return true;
    }
}
