namespace MigrationTasks.Production.Steps;

/// <summary>
/// "Monitor for issues": after the cutover, Verify/ runs again once the monitoring period has passed. The runner's
/// session waits without tripping the server's idle timeouts (its session settings turn them off).
/// </summary>
internal sealed class MonitorStep(VerifyWithReadQueriesStep verify)
{
    /// <summary>Null when monitoring passed or was not asked for; else why the release must be rolled back.</summary>
    public async Task<string?> RunAsync(DeployRun run, Deployment deployment, CancellationToken cancellationToken)
    {
        if (deployment.Options.MonitorPeriod <= TimeSpan.Zero)
        {
            run.Path.Skip(FlowChart.Monitor, "no --monitor-seconds given: watch your dashboards (with --monitor-seconds N the runner runs Verify/ again after N seconds)");
            return null;
        }

        var monitoring = run.Path.Begin(FlowChart.Monitor);
        run.Info($"{deployment.Database.DisplayName}: monitoring for {deployment.Options.MonitorPeriod.TotalSeconds:0} s, then running Verify/ again.");
        try
        {
            await Task.Delay(deployment.Options.MonitorPeriod, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The release is committed and verified; only the watch was cut short (a CI timeout, SIGTERM).
            run.Path.Fail(monitoring, "monitoring was stopped before its end (cancelled): the release is deployed and verified; watch your dashboards");
            return null;
        }

        var late = await verify.ProblemsAsync(run, deployment.Release, VerifyWithReadQueriesStep.Reader.Of(deployment.Database), checkPostState: false, CancellationToken.None);
        if (late.Count > 0)
        {
            run.Path.Fail(monitoring, string.Join("; ", late));
            return "verification failed while monitoring";
        }

        run.Path.Pass(monitoring, "Verify/ passed again after the monitoring period");
        return null;
    }
}
