using MigrationTasks.Cli;
using MigrationTasks.Diagnostics;

var reporter = new Reporter(Console.Out);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    await Verbs.RunAsync(Arguments.Parse(args), reporter, cancel.Token);
}
catch (DiagnosticException e)
{
    reporter.Report(e.Diagnostics);
}
catch (OperationCanceledException)
{
    reporter.Report(Diagnostic.Error(DiagnosticCodes.InvalidOption, "cancelled before the verb finished."));
}

return reporter.ErrorCount == 0 ? 0 : 1;
