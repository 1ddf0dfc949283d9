using System.Collections.Concurrent;
using System.Reflection;
using MigrationTasks.Core.Tests.InMemory;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;
using MigrationTasks.Testing;

namespace MigrationTasks.Core.Tests.Testing;

/// <summary>
/// The parallel test run's order and failure handling, offline: sessions of the in-memory engine whose tests finish
/// in an order the test chooses.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ParallelTestRunTests
{
    private static readonly ConcurrentBag<string> Folders = [];

    [OneTimeTearDown]
    public void DeleteFolders()
    {
        foreach (var folder in Folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string NewFolder()
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-parallel-").FullName;
        Folders.Add(folder);
        return folder;
    }

    [Test]
    public async Task Output_and_results_follow_the_paths_whatever_order_the_tests_finish_in()
    {
        var engine = new InMemoryEngine();
        var folder = NewFolder();
        string[] tests =
        [
            Write(folder, "a_finishes_last.sql", "select nothing"),
            Write(folder, "b_fails.sql", "select missing table customer"),
            Write(folder, "c_errors.sql", "fail boom"),
            Write(folder, "d_passes.sql", "select nothing"),
            Write(folder, "e_not_transactional.sql", InMemoryEngine.NoTransactionMarker + "\nselect nothing"),
        ];
        var finished = new ConcurrentQueue<string>();
        var othersDone = new TaskCompletionSource();
        var sessions = new List<Session>();

        async Task<TestRun> Run(ITargetDatabase inner, PreparedScript test, CancellationToken cancellationToken)
        {
            if (test.Path == tests[0])
            {
                await othersDone.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }

            var run = await inner.RunTestAsync(test, cancellationToken);
            finished.Enqueue(Path.GetFileName(test.Path));
            if (finished.Count == 3)
            {
                othersDone.TrySetResult();
            }

            return run;
        }

        var sequentialOutput = new StringWriter();
        var sequential = await new DatabaseTestRunner(engine, new Reporter(sequentialOutput)).RunAsync(
            await engine.ConnectAsync("memory:shop", CancellationToken.None), tests, CancellationToken.None);
        finished.Clear();

        var output = new StringWriter();
        var first = Session.Over(await engine.ConnectAsync("memory:shop", CancellationToken.None), Run);
        var results = await new DatabaseTestRunner(engine, new Reporter(output)).RunAsync(
            first,
            async cancellationToken =>
            {
                var session = Session.Over(await engine.ConnectAsync("memory:shop", cancellationToken), Run);
                lock (sessions)
                {
                    sessions.Add((Session)(object)session);
                }

                return session;
            },
            parallelism: 3,
            tests.Reverse(),
            CancellationToken.None);

        Assert.That(finished.ToArray()[3..], Is.EqualTo(new[] { "a_finishes_last.sql", "c_errors.sql" }), "a finished after the others; c, which errored beside them, ran again alone");
        Assert.That(results.Select(r => (Path.GetFileName(r.Path), r.Passed, r.Failure?.ToString())), Is.EqualTo(sequential.Select(r => (Path.GetFileName(r.Path), r.Passed, r.Failure?.ToString()))));
        Assert.That(output.ToString(), Is.EqualTo(sequentialOutput.ToString()), "the same lines in the same order (the in-memory engine's runs take 0 ms)");
        Assert.That(sessions, Has.Count.EqualTo(1), "a session is opened only while tests wait: the in-memory one ran every other test before a third was asked for");
        Assert.That(sessions.Select(s => s.Disposed), Is.All.True, "the run disposes the sessions it opened");
        Directory.Delete(folder, recursive: true);
    }

    [Test]
    public async Task A_session_that_breaks_stops_the_run_with_its_own_exception_and_disposes_every_session_it_opened()
    {
        var engine = new InMemoryEngine();
        var folder = NewFolder();
        var tests = Enumerable.Range(1, 8).Select(i => Write(folder, $"t{i}.sql", "select nothing")).ToArray();
        var sessions = new List<Session>();
        var broken = new InvalidOperationException("the connection was lost");

        async Task<TestRun> Run(ITargetDatabase inner, PreparedScript test, CancellationToken cancellationToken)
        {
            if (test.Path == tests[2])
            {
                throw broken;
            }

            // The others wait for the cancellation the broken one causes.
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            return await inner.RunTestAsync(test, cancellationToken);
        }

        var runner = new DatabaseTestRunner(engine, new Reporter(TextWriter.Null));
        var first = Session.Over(await engine.ConnectAsync("memory:shop", CancellationToken.None), Run);
        var thrown = Assert.ThrowsAsync<InvalidOperationException>(() => runner.RunAsync(
            first,
            async cancellationToken =>
            {
                var session = Session.Over(await engine.ConnectAsync("memory:shop", cancellationToken), Run);
                lock (sessions)
                {
                    sessions.Add((Session)(object)session);
                }

                return session;
            },
            parallelism: 4,
            tests,
            CancellationToken.None));

        Assert.That(thrown, Is.SameAs(broken));
        Assert.That(sessions.Select(s => s.Disposed), Is.All.True);
        Directory.Delete(folder, recursive: true);
    }

    private static string Write(string folder, string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>An in-memory session whose tests run through a hook, and that knows whether it was disposed.</summary>
    public class Session : DispatchProxy
    {
        private ITargetDatabase _inner = null!;
        private Func<ITargetDatabase, PreparedScript, CancellationToken, Task<TestRun>> _run = null!;

        public bool Disposed { get; private set; }

        public static ITargetDatabase Over(ITargetDatabase inner, Func<ITargetDatabase, PreparedScript, CancellationToken, Task<TestRun>> run)
        {
            var proxy = Create<ITargetDatabase, Session>();
            var session = (Session)(object)proxy;
            session._inner = inner;
            session._run = run;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod!.Name)
            {
                case nameof(ITargetDatabase.RunTestAsync):
                    return _run(_inner, (PreparedScript)args![0]!, (CancellationToken)args[1]!);
                case nameof(IAsyncDisposable.DisposeAsync):
                    Disposed = true;
                    return _inner.DisposeAsync();
                default:
                    return targetMethod.Invoke(_inner, args);
            }
        }
    }
}
