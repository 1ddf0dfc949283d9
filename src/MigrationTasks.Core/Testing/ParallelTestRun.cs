using System.Runtime.ExceptionServices;
using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Testing;

/// <summary>
/// One run of <see cref="DatabaseTestRunner"/> on several sessions: workers take the next test in path order, and
/// results are reported in that order as soon as every earlier one is in, so that the output reads as a sequential
/// run's. A test that errored beside others is run again alone on the first session before it is reported.
/// </summary>
internal sealed class ParallelTestRun(
    DatabaseTestRunner runner,
    ITargetDatabase first,
    Func<CancellationToken, Task<ITargetDatabase>> openSession,
    int parallelism,
    IEnumerable<(string Path, Lazy<SourceFile> Source)> queries)
{
    private readonly (string Path, Lazy<SourceFile> Source)[] _tests = [.. queries.OrderBy(q => q.Path, StringComparer.Ordinal)];
    private readonly object _gate = new();
    private bool _besideOthers;
    private TestResult?[] _results = [];
    private int _taken = -1;
    private int _reported;
    private ExceptionDispatchInfo? _failure;

    private string Where => first.DisplayName;

    public async Task<IReadOnlyList<TestResult>> RunAsync(CancellationToken cancellationToken)
    {
        _results = new TestResult?[_tests.Length];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new List<Task> { StopAllOnFailureAsync(WorkAsync(first, stop), stop) };
        for (var i = 1; i < Math.Min(parallelism, _tests.Length); i++)
        {
            workers.Add(StopAllOnFailureAsync(WorkOnNewSessionAsync(stop), stop));
        }

        try
        {
            await Task.WhenAll(workers);
        }
        catch (Exception) when (_failure is not null || cancellationToken.IsCancellationRequested)
        {
            // The first worker's own exception is rethrown below, not another's cancellation that it caused.
        }

        _failure?.Throw();
        cancellationToken.ThrowIfCancellationRequested();

        // Alone now: what still waits to be reported starts with a test that errored beside others.
        for (; _reported < _results.Length; _reported++)
        {
            var result = _results[_reported]!;
            if (NeedsARunAlone(result) && Volatile.Read(ref _besideOthers))
            {
                var (path, source) = _tests[_reported];
                var alone = await runner.RunOneAsync(first.RunTestAsync, path, source, cancellationToken);
                if (alone.Run?.Error is null)
                {
                    runner.Info($"{Where}: {runner.Noun} {path} failed with an error while other {runner.Noun}s ran beside it, and " +
                                $"{(alone.Passed ? "passed" : "failed without one")} alone: it waits on rows or locks another {runner.Noun} takes.");
                }

                result = _results[_reported] = alone;
            }

            runner.Report(Where, result);
        }

        var results = _results.Select(r => r!).ToArray();
        runner.ReportTotals(Where, results);
        return results;
    }

    /// <summary>An error can come of another session's locks (a deadlock, a lock timeout); a failure's rows cannot, since no test commits.</summary>
    private static bool NeedsARunAlone(TestResult result) => result.Run?.Error is not null;

    private async Task WorkOnNewSessionAsync(CancellationTokenSource stop)
    {
        // Opened only when a test is still waiting: a connection costs more than a quick test.
        if (Volatile.Read(ref _taken) + 1 >= _tests.Length)
        {
            return;
        }

        ITargetDatabase session;
        try
        {
            session = await openSession(stop.Token);
        }
        catch (DiagnosticException e)
        {
            // The first session stands, so the tests can still run, on fewer sessions (say, at the server's max_connections).
            lock (_gate)
            {
                runner.Info($"{Where}: one more session for the {runner.Noun}s could not be opened, so they run on fewer: {e.Diagnostics[0].Message}");
            }

            return;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }

        await using (session)
        {
            Volatile.Write(ref _besideOthers, true);
            await WorkAsync(session, stop);
        }
    }

    private async Task WorkAsync(ITargetDatabase session, CancellationTokenSource stop)
    {
        int next;
        while (!stop.IsCancellationRequested && (next = Interlocked.Increment(ref _taken)) < _tests.Length)
        {
            var (path, source) = _tests[next];
            var result = await runner.RunOneAsync(session.RunTestAsync, path, source, stop.Token);
            lock (_gate)
            {
                _results[next] = result;
                ReportInOrder();
            }
        }
    }

    /// <summary>A worker's own failure (a lost connection, not a test's) ends the run: the others are cancelled, and it is what the run throws.</summary>
    private async Task StopAllOnFailureAsync(Task worker, CancellationTokenSource stop)
    {
        try
        {
            await worker;
        }
        catch (Exception e) when (!(e is OperationCanceledException && stop.IsCancellationRequested))
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            await stop.CancelAsync();
            throw;
        }
    }

    /// <summary>Under the gate: reports every finished result that no unfinished one precedes, up to one that must run again alone.</summary>
    private void ReportInOrder()
    {
        while (_reported < _results.Length && _results[_reported] is { } result && !NeedsARunAlone(result))
        {
            runner.Report(Where, result);
            _reported++;
        }
    }
}
