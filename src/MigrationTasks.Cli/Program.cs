using System.Runtime.InteropServices;
using MigrationTasks.Cli;

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

// Usage errors exit 2; a verb's exit code is its own (MigrateCommand says how).
return await MigrateCommand.RunAsync(args, Console.Out, cancel.Token);
