using System.Runtime.InteropServices;
using MigrationTasks.Cli;
using MigrationTasks.Diagnostics;
using MigrationTasks.Release;

var reporter = new Reporter(Console.Out);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

// SIGTERM is how CI runners, systemd and Kubernetes cancel a job, and SIGHUP how a closed terminal does: both mean
// "stop", not "die". The runner stops at a safe point, rolls back or restores, and writes its report, as for Ctrl+C.
// (SIGKILL cannot be caught: a later run finds the deploy attempt it left and finishes it.)
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopGracefully);
using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, StopGracefully);

void StopGracefully(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}

// A verb that knows better (the release runner's verbs) says which exit code; the others exit 0 or 1 by their errors.
RunnerExitCode? exitCode = null;
try
{
    exitCode = await Verbs.RunAsync(Arguments.Parse(args), reporter, cancel.Token);
}
catch (DiagnosticException e)
{
    reporter.Report(e.Diagnostics);
    // A runner verb stopped by bad options or an unreachable database has touched nothing: say so with exit code 2.
    if (args.Length > 0 && Verbs.RunnerVerbs.Contains(args[0]))
    {
        exitCode = RunnerExitCode.Refused;
    }
}
catch (OperationCanceledException)
{
    reporter.Report(Diagnostic.Error(DiagnosticCodes.InvalidOption, "cancelled before the verb finished."));
}

return (int)(exitCode ?? (reporter.ErrorCount == 0 ? RunnerExitCode.Succeeded : RunnerExitCode.Failed));
