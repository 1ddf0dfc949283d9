using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Tests.Engine;
using MigrationTasks.Testing;

namespace MigrationTasks.PostgreSql.Tests.Testing;

/// <summary>
/// The build's tests on a pool of sessions (DatabaseTestRunner with openSession), on real PostgreSQL: the same
/// results and output as one session, tests that really overlap, and each one's writes rolled back.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed partial class ParallelTestRunnerTests
{
    private const string Table = "CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);\nINSERT INTO item VALUES (1, 'one'), (2, 'two');\nCREATE SEQUENCE arrivals;";

    [Test]
    public async Task A_parallel_run_gives_the_results_diagnostics_and_output_of_a_sequential_run_in_path_order()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__item.sql", Table);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        string[] tests =
        [
            workspace.Write("tests/a_passes.sql", "SELECT id FROM item WHERE name = '';"),
            workspace.Write("tests/b_fails_with_rows.sql", "-- two rows\nSELECT id, name FROM item ORDER BY id;"),
            workspace.Write("tests/c_errors.sql", "SELECT 1;\nSELECT 1 / (id - id) FROM item;"),
            workspace.Write("tests/d_not_transactional.sql", "CREATE INDEX CONCURRENTLY item_name ON item (name);"),
            workspace.Write("tests/e_syntax.sql", "SELECT 'unterminated;\n"),
            workspace.Write("tests/f_deletes_and_passes.sql", "DELETE FROM item;\nSELECT id FROM item;"),
            workspace.Write("tests/g_missing_table.sql", "SELECT * FROM no_such_table;"),
            Path.Combine(workspace.Folder, "tests", "h_unreadable.sql"),
            workspace.Write("tests/i_passes_too.sql", "SELECT id FROM item WHERE id > 2;"),
        ];
        // Given in another order than the paths': results and output follow the paths.
        var shuffled = tests.Reverse().ToArray();

        var sequentialOutput = new StringWriter();
        IReadOnlyList<TestResult> sequential;
        await using (var database = await workspace.ConnectAsync())
        {
            sequential = await new DatabaseTestRunner(workspace.Engine, new Reporter(sequentialOutput)).RunAsync(database, shuffled, CancellationToken.None);
        }

        var parallelOutput = new StringWriter();
        var sessionsOpened = 0;
        IReadOnlyList<TestResult> parallel;
        await using (var database = await workspace.ConnectAsync())
        {
            parallel = await new DatabaseTestRunner(workspace.Engine, new Reporter(parallelOutput)).RunAsync(
                database,
                _ =>
                {
                    Interlocked.Increment(ref sessionsOpened);
                    return workspace.ConnectAsync();
                },
                parallelism: 4,
                shuffled,
                CancellationToken.None);
        }

        Assert.That(parallel.Select(r => r.Path), Is.EqualTo(tests), "path order");
        Assert.That(parallel.Select(Summary), Is.EqualTo(sequential.Select(Summary)));
        Assert.That(parallel.Select(r => r.Passed), Is.EqualTo(new[] { true, false, false, false, false, true, false, false, true }));
        Assert.That(WithoutTimings(parallelOutput), Is.EqualTo(WithoutTimings(sequentialOutput)), "the same lines, in the same order");
        Assert.That(sessionsOpened, Is.EqualTo(3), "three sessions beside the given one");
        Assert.That(await workspace.QueryAsync("SELECT count(*) FROM item"), Is.EqualTo(new[] { new[] { "2" } }), "the DELETE was rolled back");
        Assert.That(await workspace.QueryAsync("SELECT count(*) FROM pg_indexes WHERE indexname = 'item_name'"), Is.EqualTo(new[] { new[] { "0" } }));
    }

    [Test]
    public async Task Tests_on_the_pool_run_at_the_same_time_each_seeing_the_other_active()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__item.sql", Table);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        // Each arrives, then waits (up to 20 s) for the other's arrival: one after the other, the first would fail.
        string[] tests =
        [
            workspace.Write("tests/first.sql", $"{Arrive}\n{WaitFor(2, 20)}\nSELECT id FROM item WHERE name = '';\n{NotMet(2)}"),
            workspace.Write("tests/second.sql", $"{Arrive}\n{WaitFor(2, 20)}\n{NotMet(2)}"),
        ];

        var (results, output) = await RunInParallelAsync(workspace, tests);

        Assert.That(results.Select(r => r.Passed), Is.EqualTo(new[] { true, true }), output);
    }

    [Test]
    public async Task A_write_of_one_test_is_invisible_to_a_test_running_beside_it_and_rolled_back_after()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__item.sql", "CREATE TABLE audit (id int PRIMARY KEY);\nCREATE SEQUENCE arrivals;");
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        // The writer inserts, arrives and waits until the reader has read (the third arrival); the reader reads once
        // the writer arrived, so while the insert is there, uncommitted.
        string[] tests =
        [
            workspace.Write("tests/reader.sql", $"{Arrive}\n{WaitFor(2, 20)}\nCREATE TEMP TABLE was_read AS SELECT id FROM audit;\n{Arrive}\nSELECT id::text FROM was_read UNION ALL {NotMet(2)}"),
            workspace.Write("tests/writer.sql", $"INSERT INTO audit VALUES (1), (2);\n{Arrive}\n{WaitFor(3, 20)}\nSELECT id::text FROM audit WHERE id > 2 UNION ALL {NotMet(3)}"),
        ];

        var (results, output) = await RunInParallelAsync(workspace, tests);

        Assert.That(results.Select(r => (Path.GetFileName(r.Path), r.Passed)), Is.EqualTo(new[] { ("reader.sql", true), ("writer.sql", true) }), output);
        Assert.That(await workspace.QueryAsync("SELECT count(*) FROM audit"), Is.EqualTo(new[] { new[] { "0" } }));
    }

    [Test]
    public async Task Two_tests_that_deadlock_beside_each_other_are_each_judged_alone()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__item.sql", Table);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        // Each locks one row, waits for the other to hold its own, then takes the other's: one of them is the deadlock's
        // victim. Alone, the wait is over at once (both arrived already).
        string[] tests =
        [
            workspace.Write("tests/one_then_two.sql", $"UPDATE item SET name = name WHERE id = 1;\n{Arrive}\n{WaitFor(2, 20)}\nUPDATE item SET name = name WHERE id = 2;\nSELECT id FROM item WHERE name = '';"),
            workspace.Write("tests/two_then_one.sql", $"UPDATE item SET name = name WHERE id = 2;\n{Arrive}\n{WaitFor(2, 20)}\nUPDATE item SET name = name WHERE id = 1;\nSELECT id FROM item WHERE name = '';"),
        ];

        var (results, output) = await RunInParallelAsync(workspace, tests);

        Assert.That(results.Select(r => r.Passed), Is.EqualTo(new[] { true, true }), output);
        Assert.That(output, Does.Contain("failed with an error while other tests ran beside it, and passed alone"));
        Assert.That(output, Does.Not.Contain("error MIG"), "the deadlock is not reported as the test's error");
        Assert.That(output, Does.Contain("2 test(s) passed, 0 failed."));
    }

    [Test]
    public async Task One_test_opens_no_other_session_and_a_session_that_cannot_be_opened_leaves_the_tests_to_the_others()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__item.sql", Table);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        var opened = 0;
        var one = workspace.Write("tests/one.sql", "SELECT id FROM item WHERE name = '';");
        await using (var database = await workspace.ConnectAsync())
        {
            var results = await new DatabaseTestRunner(workspace.Engine, new Reporter(TextWriter.Null)).RunAsync(
                database,
                _ =>
                {
                    Interlocked.Increment(ref opened);
                    return workspace.ConnectAsync();
                },
                4,
                [one],
                CancellationToken.None);
            Assert.That(results.Select(r => r.Passed), Is.EqualTo(new[] { true }));
        }

        Assert.That(opened, Is.Zero, "a connection costs more than a quick test");

        string[] three = [one, workspace.Write("tests/two.sql", "SELECT 1 WHERE false;"), workspace.Write("tests/three.sql", "SELECT 1 WHERE false;")];
        var output = new StringWriter();
        await using (var database = await workspace.ConnectAsync())
        {
            var results = await new DatabaseTestRunner(workspace.Engine, new Reporter(output)).RunAsync(
                database,
                _ => throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.CannotConnect, "too many clients already")),
                4,
                three,
                CancellationToken.None);
            Assert.That(results.Select(r => r.Passed), Is.EqualTo(new[] { true, true, true }), output.ToString());
        }

        Assert.That(output.ToString(), Does.Contain("one more session for the tests could not be opened, so they run on fewer: too many clients already"));
        Assert.That(output.ToString(), Does.Not.Contain("error MIG"));
    }

    /// <summary>
    /// A test's arrival at a meeting point: the sequence <c>arrivals</c> counts them, and, unlike the test's writes,
    /// nextval is seen by every session at once and not rolled back.
    /// </summary>
    private const string Arrive = "SELECT pg_catalog.nextval('arrivals');";

    /// <summary>
    /// Waits, at most <paramref name="seconds"/> s, until <paramref name="arrivals"/> tests arrived, and keeps what it
    /// saw for <see cref="NotMet"/>. A test waiting here that sees another's arrival ran beside it: no clock is read.
    /// </summary>
    private static string WaitFor(int arrivals, int seconds) => $"""
        DO $$ DECLARE seen bigint := 0; BEGIN
          FOR i IN 1..{seconds * 20} LOOP
            SELECT last_value INTO seen FROM arrivals;
            EXIT WHEN seen >= {arrivals};
            PERFORM pg_catalog.pg_sleep(0.05);
          END LOOP;
          PERFORM pg_catalog.set_config('arrivals.seen', seen::text, true);
        END $$;
        """;

    /// <summary>A query returning a row (the test's failure) when the wait saw fewer than <paramref name="arrivals"/>.</summary>
    private static string NotMet(int arrivals) =>
        $"SELECT 'fewer than {arrivals} tests at once' AS alone WHERE pg_catalog.current_setting('arrivals.seen')::int < {arrivals};";

    private static async Task<(IReadOnlyList<TestResult> Results, string Output)> RunInParallelAsync(MigrationWorkspace workspace, IReadOnlyList<string> tests)
    {
        var output = new StringWriter();
        await using var database = await workspace.ConnectAsync();
        var results = await new DatabaseTestRunner(workspace.Engine, new Reporter(output)).RunAsync(
            database, _ => workspace.ConnectAsync(), 4, tests, CancellationToken.None);
        return (results, output.ToString());
    }

    private static string Summary(TestResult result) => $"{result.Path} {result.Passed} {result.Run?.RowCount} {result.Failure}";

    private static string[] WithoutTimings(StringWriter output) => [.. Timing().Replace(output.ToString(), "(… ms)").Split('\n')];

    [GeneratedRegex(@"\(\d+ ms\)")]
    private static partial Regex Timing();
}
