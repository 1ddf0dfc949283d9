using System.Text;
using MigrationTasks.Common;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Scripts;

namespace MigrationTasks.Testing;

/// <summary>
/// Runs zero-rows query files: <c>Tests/</c> on dev, <c>Checks/</c> on staging and production, <c>Verify/</c> after a
/// deploy. One passes when it runs without error and its last result set is empty: the rows it returns are the
/// failures it found, and the first ten are shown in the diagnostic. Each runs in a transaction that is rolled back.
/// </summary>
public sealed class DatabaseTestRunner(IMigrationEngine engine, Reporter reporter, QueryKind kind)
{
    public DatabaseTestRunner(IMigrationEngine engine, Reporter reporter)
        : this(engine, reporter, QueryKind.Test)
    {
    }

    private const int RowsShown = 10;

    /// <summary>
    /// How many sessions the build's tests run on at once unless told otherwise. Tests mostly wait on the server, but a
    /// throwaway server shares this machine's cores, and a shared dev server's connections are not the build's alone:
    /// past the cores, or four sessions, more of them add connection cost and lock waits rather than speed.
    /// </summary>
    public static int DefaultParallelism { get; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    public Task<IReadOnlyList<TestResult>> RunAsync(ITargetDatabase database, IEnumerable<string> testPaths, CancellationToken cancellationToken) =>
        RunAsync(database.DisplayName, database.RunTestAsync, testPaths.Select(path => (path, new Lazy<SourceFile>(() => SourceFile.Read(path)))), cancellationToken);

    /// <summary>Runs queries already read (a verified release's bytes, which are what runs, whatever the disk holds now).</summary>
    public Task<IReadOnlyList<TestResult>> RunAsync(ITargetDatabase database, IEnumerable<SourceFile> queries, CancellationToken cancellationToken) =>
        RunAsync(database.DisplayName, database.RunTestAsync, queries, cancellationToken);

    /// <summary>
    /// Runs queries already read through <paramref name="run"/> (e.g. inside a release's transaction, where the
    /// migrations are not committed yet); <paramref name="where"/> names the database in the output.
    /// </summary>
    public Task<IReadOnlyList<TestResult>> RunAsync(
        string where, Func<PreparedScript, CancellationToken, Task<TestRun>> run, IEnumerable<SourceFile> queries, CancellationToken cancellationToken) =>
        RunAsync(where, run, queries.Select(query => (query.Path, new Lazy<SourceFile>(query))), cancellationToken);

    /// <summary>
    /// Runs the tests on up to <paramref name="parallelism"/> sessions at once: <paramref name="database"/> and others
    /// from <paramref name="openSession"/>, opened only while tests are left to take (one test opens none) and disposed
    /// here. Each test still runs in its own transaction that is rolled back. Results, output and diagnostics come in
    /// path order whatever order the tests finish in, and are those of <see cref="RunAsync(ITargetDatabase, IEnumerable{string}, CancellationToken)"/>:
    /// a test that fails with an error beside others is run again alone (two tests can deadlock or time out on each
    /// other's locks, which alone they would not), and the run alone is its result.
    /// </summary>
    public Task<IReadOnlyList<TestResult>> RunAsync(
        ITargetDatabase database,
        Func<CancellationToken, Task<ITargetDatabase>> openSession,
        int parallelism,
        IEnumerable<string> testPaths,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var queries = testPaths.Select(path => (path, new Lazy<SourceFile>(() => SourceFile.Read(path))));
        return parallelism == 1
            ? RunAsync(database.DisplayName, database.RunTestAsync, queries, cancellationToken)
            : new ParallelTestRun(this, database, openSession, parallelism, queries).RunAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<TestResult>> RunAsync(
        string where, Func<PreparedScript, CancellationToken, Task<TestRun>> run, IEnumerable<(string Path, Lazy<SourceFile> Source)> queries, CancellationToken cancellationToken)
    {
        var results = new List<TestResult>();
        foreach (var (path, source) in queries.OrderBy(q => q.Path, StringComparer.Ordinal))
        {
            var result = await RunOneAsync(run, path, source, cancellationToken);
            results.Add(result);
            Report(where, result);
        }

        ReportTotals(where, results);
        return results;
    }

    internal void Report(string where, TestResult result)
    {
        if (result.Failure is { } failure)
        {
            reporter.Report(failure);
        }
        else
        {
            reporter.Info($"{where}: {kind.Noun} passed: {result.Path} ({result.Run!.Duration.TotalMilliseconds:0} ms)");
        }
    }

    internal void Info(string message) => reporter.Info(message);

    internal string Noun => kind.Noun;

    internal void ReportTotals(string where, IReadOnlyList<TestResult> results) =>
        reporter.Info($"{where}: {results.Count(r => r.Passed)} {kind.Noun}(s) passed, {results.Count(r => !r.Passed)} failed.");

    internal async Task<TestResult> RunOneAsync(Func<PreparedScript, CancellationToken, Task<TestRun>> runQuery, string path, Lazy<SourceFile> source, CancellationToken cancellationToken)
    {
        SourceFile file;
        try
        {
            file = source.Value;
        }
        catch (DiagnosticException e)
        {
            return new TestResult(path, null, e.Diagnostics[0]);
        }

        // The hash of the bytes that ran, not of the file a moment later: what a selective next run compares with.
        return await RunOneAsync(runQuery, path, file, cancellationToken) with { SourceHash = Sha256.Hex(file.Bytes.Span) };
    }

    private async Task<TestResult> RunOneAsync(Func<PreparedScript, CancellationToken, Task<TestRun>> runQuery, string path, SourceFile file, CancellationToken cancellationToken)
    {
        PreparedScript script;
        try
        {
            script = engine.Prepare(path, file.Text);
        }
        catch (DiagnosticException e)
        {
            return new TestResult(path, null, e.Diagnostics[0]);
        }

        if (!script.InTransaction)
        {
            return new TestResult(path, null, new Diagnostic(
                kind.Severity,
                kind.NotTransactionalCode,
                $"the {kind.Noun} cannot run inside the transaction that undoes it ({script.OutsideTransactionReason}). Remove that statement from the {kind.Noun}.",
                path));
        }

        var run = await runQuery(script, cancellationToken);
        var positions = new TextPosition(script.Text);
        if (run.Error is { } error)
        {
            var (line, column) = positions.At(error.FileOffset ?? error.Statement.Offset);
            return new TestResult(path, run, new Diagnostic(
                kind.Severity,
                kind.ErrorCode,
                $"{kind.Noun} failed with an error at statement {error.StatementNumber}: {MigrationRunner.ServerWords(error)}",
                path,
                line,
                column));
        }

        if (run.RowCount == 0)
        {
            return new TestResult(path, run, null);
        }

        var (rowLine, rowColumn) = positions.At(run.ResultStatement!.Offset);
        return new TestResult(path, run, new Diagnostic(
            kind.Severity,
            kind.FailedCode,
            $"{kind.Noun} failed: its last query returned {run.RowCount} row(s), and a {kind.Noun} passes only when it returns none. " +
            $"{(run.RowCount > RowsShown ? $"First {RowsShown}" : "Rows")}: {FormatRows(run)}",
            path,
            rowLine,
            rowColumn));
    }

    private static string FormatRows(TestRun run)
    {
        var text = new StringBuilder();
        foreach (var row in run.FirstRows.Take(RowsShown))
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            text.Append('(')
                .AppendJoin(", ", run.Columns.Select((column, i) => $"{column}={row[i] ?? "NULL"}"))
                .Append(')');
        }

        return text.ToString();
    }
}
