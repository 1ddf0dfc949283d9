using System.Xml.Linq;
using MigrationTasks.Dev;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Testing;

namespace MigrationTasks.Tests.Suites;

/// <summary>
/// The build's dev steps on the engine under test, as <c>dotnet build</c> runs them: MigrationDeployDev (every
/// migration on an empty dev database; on one that is not, the pending ones, after the whole chain is proven on a
/// shadow) and MigrationTest (zero-rows tests in a transaction that is rolled back).
/// </summary>
public abstract class DevLoopSuite(EngineUnderTest engine)
{
    private const string Customers = "CREATE TABLE customer (id int PRIMARY KEY, name varchar(100) NOT NULL);\nINSERT INTO customer VALUES (1, 'Ada'), (2, 'Bob');";

    [OneTimeSetUp]
    public Task Server() => engine.RequireServerAsync();

    [Test]
    public async Task A_deploy_to_an_empty_dev_database_applies_versions_in_numeric_order_and_repeatables_after_them()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V1_10__c.sql", "INSERT INTO version_log VALUES ('1.10');");
        dev.Write("V1_9__b.sql", "INSERT INTO version_log VALUES ('1.9');");
        dev.Write("V1__a.sql", "CREATE TABLE version_log (v varchar(10) NOT NULL);");
        dev.Write("V2__d.sql", "INSERT INTO version_log VALUES ('2');");
        dev.Write("R__view.sql", engine.CreateOrReplaceView("log_view", "SELECT v FROM version_log"));

        var (problems, output) = await DeployAsync(dev);

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Contain("is empty, so deploying to it validates every migration from scratch"));
        Assert.That((await dev.HistoryAsync()).Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[]
        {
            ("V1__a.sql", HistoryOutcome.Success), ("V1_9__b.sql", HistoryOutcome.Success), ("V1_10__c.sql", HistoryOutcome.Success),
            ("V2__d.sql", HistoryOutcome.Success), ("R__view.sql", HistoryOutcome.Success),
        }));
        Assert.That(await dev.QueryAsync("SELECT v FROM log_view ORDER BY v"), Is.EqualTo(new[] { new[] { "1.10" }, new[] { "1.9" }, new[] { "2" } }));
    }

    [Test]
    public async Task A_redeploy_proves_every_migration_on_a_shadow_then_applies_only_the_pending_ones_and_changed_repeatables()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V1__customer.sql", Customers);
        dev.Write("R__names.sql", engine.CreateOrReplaceView("customer_names", "SELECT name FROM customer"));
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        var before = await dev.HistoryAsync();
        dev.Write("V2__email.sql", "ALTER TABLE customer ADD email varchar(100);");
        dev.Write("R__names.sql", engine.CreateOrReplaceView("customer_names", "SELECT name, email FROM customer"));

        var (problems, output) = await DeployAsync(dev);

        Assert.That(problems, Is.Empty, output);
        Assert.That(output, Does.Not.Contain(DiagnosticCodes.NoShadowDatabase), "the chain was proven on a shadow");
        var after = await dev.HistoryAsync();
        Assert.That(after.Take(before.Count), Is.EqualTo(before), "what was applied stays as it was");
        Assert.That(after.Skip(before.Count).Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[] { ("V2__email.sql", HistoryOutcome.Success), ("R__names.sql", HistoryOutcome.Success) }));
        Assert.That((await dev.SnapshotAsync()).Hash, Is.EqualTo((await dev.SchemaBuiltFromScratchAsync(dev.Files)).Hash));
        Assert.That(await dev.QueryAsync("SELECT name FROM customer ORDER BY id"), Is.EqualTo(new[] { new[] { "Ada" }, new[] { "Bob" } }));
    }

    [Test]
    public async Task A_pending_version_below_an_applied_one_is_refused_and_nothing_runs()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V2__b.sql", "CREATE TABLE b (a int);");
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        var schema = (await dev.SnapshotAsync()).Hash;

        var late = dev.Write("V1__a.sql", "CREATE TABLE a (a int);");
        var (problems, output) = await DeployAsync(dev);

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{late}: error MIG7005: V1__a.sql (version 1) is pending but version 2 is already applied"), output);
        Assert.That((await dev.SnapshotAsync()).Hash, Is.EqualTo(schema));
        Assert.That((await dev.HistoryAsync()).Select(h => h.Script), Is.EqualTo(new[] { "V2__b.sql" }));
    }

    [Test]
    public async Task A_failing_migration_is_rolled_back_whole_recorded_as_failed_at_its_line_and_applies_once_fixed()
    {
        var dev = await Workspace.CreateAsync(engine);
        var v1 = dev.Write("V1__customer.sql", Customers);
        var v2 = dev.Write("V2__orders.sql", "CREATE TABLE orders (id int PRIMARY KEY);\nUPDATE customer SET name = upper(name);\nINSERT INTO customer VALUES (1, 'Ada again');");

        var (problems, output) = await DeployAsync(dev);

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{v2}(3,1): error MIG2004: V2__orders.sql failed on"), output);
        Assert.That(problems[0].Message, Does.Contain(engine.DuplicateKeyError).And.Contain("Its transaction was rolled back"));
        Assert.That((await dev.SnapshotAsync()).Hash, Is.EqualTo((await dev.SchemaBuiltFromScratchAsync([v1])).Hash), "V2's table went with its transaction");
        Assert.That(await dev.QueryAsync("SELECT id, name FROM customer ORDER BY id"), Is.EqualTo(new[] { new[] { "1", "Ada" }, new[] { "2", "Bob" } }));
        var history = await dev.HistoryAsync();
        Assert.That(history.Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[] { ("V1__customer.sql", HistoryOutcome.Success), ("V2__orders.sql", HistoryOutcome.Failed) }));
        Assert.That(history[1].StatementsApplied, Is.Zero);

        dev.Write("V2__orders.sql", "CREATE TABLE orders (id int PRIMARY KEY);\nUPDATE customer SET name = upper(name);");
        var (fixedProblems, fixedOutput) = await DeployAsync(dev);

        Assert.That(fixedProblems, Is.Empty, "a failed transactional migration may be fixed and run again: " + fixedOutput);
        Assert.That((await dev.HistoryAsync()).Select(h => (h.Script, h.Outcome)), Is.EqualTo(new[]
        {
            ("V1__customer.sql", HistoryOutcome.Success), ("V2__orders.sql", HistoryOutcome.Failed), ("V2__orders.sql", HistoryOutcome.Success),
        }));
        Assert.That(await dev.QueryAsync("SELECT id, name FROM customer ORDER BY id"), Is.EqualTo(new[] { new[] { "1", "ADA" }, new[] { "2", "BOB" } }));
    }

    [Test]
    public async Task Database_tests_run_in_a_transaction_that_is_rolled_back_and_pass_only_on_zero_rows()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V1__customer.sql", Customers);
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        var passing = dev.Write("tests/deleting_every_customer_leaves_none.sql", "DELETE FROM customer;\nSELECT id FROM customer;");
        var failing = dev.Write("tests/nobody_is_called_bob.sql", "SELECT id, name FROM customer WHERE name = 'Bob';");
        var junit = Path.Combine(dev.Folder, "obj", "tests.xml");

        var results = await new DevLoop(engine.Engine, new Reporter(TextWriter.Null)).TestAsync(Options(dev), [passing, failing], junit, "Shop", CancellationToken.None);

        Assert.That(results.Select(r => (Path.GetFileName(r.Path), r.Passed)), Is.EqualTo(new[] { ("deleting_every_customer_leaves_none.sql", true), ("nobody_is_called_bob.sql", false) }));
        Assert.That(results[1].Failure!.ToString(), Does.StartWith($"{failing}(1,1): error {DiagnosticCodes.TestFailed}").And.Contain("(id=2, name=Bob)"));
        Assert.That(await dev.QueryAsync("SELECT id, name FROM customer ORDER BY id"), Is.EqualTo(new[] { new[] { "1", "Ada" }, new[] { "2", "Bob" } }), "the DELETE was rolled back");
        Assert.That(File.ReadAllText(junit), Does.Contain("nobody_is_called_bob").And.Contain("<failure"));
    }

    [Test]
    public async Task Without_a_dev_connection_the_build_uses_a_throwaway_server_where_the_engine_has_one_and_else_says_so()
    {
        var project = await Workspace.CreateAsync(engine);
        project.Write("V1__customer.sql", Customers);
        var test = project.Write("tests/every_customer_is_named.sql", "SELECT id FROM customer WHERE name = '';");
        // Two tests: the second may run on another session of the same throwaway server.
        var another = project.Write("tests/ids_are_positive.sql", "SELECT id FROM customer WHERE id <= 0;");
        // Not CreateTempSubdirectory: its mode 700 would keep a throwaway server run as another user out of its data folder.
        var state = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "migrationtasks-dev-" + Guid.NewGuid().ToString("N"))).FullName;
        var options = Options(project) with { ConnectionVariable = "MIGRATIONTASKS_TEST_UNSET_" + Guid.NewGuid().ToString("N"), StateDirectory = state };
        var output = new StringWriter();
        try
        {
            var loop = new DevLoop(engine.Engine, new Reporter(output));
            await loop.DeployAsync(options, CancellationToken.None);
            var results = await loop.TestAsync(options, [test, another], Path.Combine(state, "tests.xml"), "Shop", CancellationToken.None);

            if (engine.StartsThrowawayServers)
            {
                Assert.That(output.ToString(), Does.Contain($"Dev database: a throwaway {engine.Engine.Name} server").And.Not.Contain(DiagnosticCodes.NoDevDatabase));
                Assert.That(results.Select(r => r.Passed), Is.EqualTo(new[] { true, true }), "the test step reopened the server the deploy step built: " + output);

                // Started again, the server listens on another port: the same database still, so only the edited test runs.
                project.Write("tests/ids_are_positive.sql", "SELECT id FROM customer WHERE id < 1;");
                var again = new StringWriter();
                var rerun = await new DevLoop(engine.Engine, new Reporter(again)).TestAsync(options, [test, another], Path.Combine(state, "tests.xml"), "Shop", CancellationToken.None);
                Assert.That(rerun.Select(r => (r.Passed, r.Kept)), Is.EqualTo(new[] { (true, true), (true, false) }), again.ToString());
                Assert.That(again.ToString(), Does.Contain("1 of 2 tests ran: inputs of 1 unchanged since they passed."));
            }
            else
            {
                Assert.That(output.ToString(), Does.Contain($"warning {DiagnosticCodes.NoDevDatabase}: no dev database"));
                Assert.That(results, Is.Empty);
            }
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Test]
    public async Task After_one_test_is_edited_only_it_runs_and_the_report_still_lists_every_test()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V1__customer.sql", Customers);
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        string[] tests =
        [
            dev.Write("tests/a_every_customer_is_named.sql", "SELECT id FROM customer WHERE name = '';"),
            dev.Write("tests/b_nobody_is_called_zed.sql", "SELECT id FROM customer WHERE name = 'Zed';"),
            dev.Write("tests/c_deleting_leaves_none.sql", "DELETE FROM customer;\nSELECT id FROM customer;"),
        ];

        var (first, firstOutput) = await TestAsync(dev, tests);

        Assert.That(first.Select(r => (r.Passed, r.Kept)), Is.EqualTo(new[] { (true, false), (true, false), (true, false) }), firstOutput);
        Assert.That(firstOutput, Does.Contain("3 of 3 tests ran: no earlier run is recorded."));

        dev.Write("tests/b_nobody_is_called_zed.sql", "SELECT id FROM customer WHERE name IN ('Zed', 'Zoe');");
        var (second, secondOutput) = await TestAsync(dev, tests);

        Assert.That(second.Select(r => (Path.GetFileName(r.Path), r.Passed, r.Kept)), Is.EqualTo(new[]
        {
            ("a_every_customer_is_named.sql", true, true), ("b_nobody_is_called_zed.sql", true, false), ("c_deleting_leaves_none.sql", true, true),
        }), secondOutput);
        Assert.That(secondOutput, Does.Contain($"test passed: {tests[1]}").And.Not.Contain($"test passed: {tests[0]}").And.Not.Contain($"test passed: {tests[2]}"));
        Assert.That(secondOutput, Does.Contain("1 of 3 tests ran: inputs of 2 unchanged since they passed."));
        var suite = XDocument.Load(Junit(dev)).Root!.Element("testsuite")!;
        Assert.That(((int)suite.Attribute("tests")!, (int)suite.Attribute("failures")!, (int)suite.Attribute("errors")!), Is.EqualTo((3, 0, 0)));
        Assert.That(
            suite.Elements("testcase").Select(c => ((string)c.Attribute("name")!, (string?)c.Element("system-out"))),
            Is.EqualTo(new[] { (tests[0], JUnitReport.KeptNote), (tests[1], null), (tests[2], JUnitReport.KeptNote) }));
    }

    [Test]
    public async Task A_failing_test_runs_again_next_time_and_a_deleted_test_leaves_the_report_and_the_record()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V1__customer.sql", Customers);
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        var passing = dev.Write("tests/every_customer_is_named.sql", "SELECT id FROM customer WHERE name = '';");
        var failing = dev.Write("tests/nobody_is_called_bob.sql", "SELECT id FROM customer WHERE name = 'Bob';");
        Assert.That((await TestAsync(dev, [passing, failing])).Results.Select(r => r.Passed), Is.EqualTo(new[] { true, false }));

        var (again, againOutput) = await TestAsync(dev, [passing, failing]);

        Assert.That(again.Select(r => (r.Passed, r.Kept)), Is.EqualTo(new[] { (true, true), (false, false) }), againOutput);
        Assert.That(againOutput, Does.Contain($"{failing}(1,1): error {DiagnosticCodes.TestFailed}"), "a failure is reported every time until fixed");
        Assert.That(againOutput, Does.Contain("1 of 2 tests ran: inputs of 1 unchanged since they passed."));

        dev.Write("tests/nobody_is_called_bob.sql", "SELECT id FROM customer WHERE name = 'Bobby';");
        Assert.That((await TestAsync(dev, [passing, failing])).Results.Select(r => (r.Passed, r.Kept)), Is.EqualTo(new[] { (true, true), (true, false) }));

        File.Delete(passing);
        var (fewer, fewerOutput) = await TestAsync(dev, [failing]);

        Assert.That(fewer.Select(r => (r.Path, r.Passed, r.Kept)), Is.EqualTo(new[] { (failing, true, true) }), fewerOutput);
        Assert.That(fewerOutput, Does.Contain("0 of 1 tests ran: inputs of 1 unchanged since they passed."));
        Assert.That(XDocument.Load(Junit(dev)).Descendants("testcase").Select(c => (string)c.Attribute("name")!), Is.EqualTo(new[] { failing }));
        Assert.That(File.ReadAllText(StateFile(dev)), Does.Contain("nobody_is_called_bob").And.Not.Contain("every_customer_is_named"));
    }

    [Test]
    public async Task A_migration_applied_since_the_last_run_runs_every_test_again()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V1__customer.sql", Customers);
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        string[] tests = [dev.Write("tests/every_customer_is_named.sql", "SELECT id FROM customer WHERE name = '';"), dev.Write("tests/ids_are_positive.sql", "SELECT id FROM customer WHERE id <= 0;")];
        Assert.That((await TestAsync(dev, tests)).Results.Select(r => r.Passed), Is.EqualTo(new[] { true, true }));

        dev.Write("V2__email.sql", "ALTER TABLE customer ADD email varchar(100);");
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        var (results, output) = await TestAsync(dev, tests);

        Assert.That(results.Select(r => (r.Passed, r.Kept)), Is.EqualTo(new[] { (true, false), (true, false) }), output);
        Assert.That(output, Does.Contain("2 of 2 tests ran: the dev database or the tool changed since the last run."));
    }

    [Test]
    public async Task With_tests_always_or_an_unreadable_record_every_test_runs()
    {
        var dev = await Workspace.CreateAsync(engine);
        dev.Write("V1__customer.sql", Customers);
        Assert.That((await DeployAsync(dev)).Problems, Is.Empty);
        string[] tests = [dev.Write("tests/every_customer_is_named.sql", "SELECT id FROM customer WHERE name = '';"), dev.Write("tests/ids_are_positive.sql", "SELECT id FROM customer WHERE id <= 0;")];
        Assert.That((await TestAsync(dev, tests)).Results.Select(r => r.Passed), Is.EqualTo(new[] { true, true }));

        var (always, alwaysOutput) = await TestAsync(dev, tests, testsAlways: true);

        Assert.That(always.Select(r => r.Kept), Is.EqualTo(new[] { false, false }), alwaysOutput);
        Assert.That(alwaysOutput, Does.Contain("2 of 2 tests ran: every test was asked for (MigrationTestsAlways or MigrationForceDeployDev)."));

        File.WriteAllText(StateFile(dev), "{ \"format\": 1, \"devStateKey\": ");
        var (corrupt, corruptOutput) = await TestAsync(dev, tests);

        Assert.That(corrupt.Select(r => r.Kept), Is.EqualTo(new[] { false, false }), corruptOutput);
        Assert.That(corruptOutput, Does.Contain("2 of 2 tests ran: the record of the last run (tests-state.json) could not be read"));
        Assert.That(corruptOutput, Does.Not.Contain("error"), "no failure");

        var (next, nextOutput) = await TestAsync(dev, tests);
        Assert.That(next.Select(r => r.Kept), Is.EqualTo(new[] { true, true }), "the run recorded itself again: " + nextOutput);
    }

    private static string Junit(Workspace dev) => Path.Combine(dev.Folder, "obj", "tests.xml");

    private static string StateFile(Workspace dev) => Path.Combine(dev.Folder, "obj", TestSelection.StateFileName);

    /// <summary>MigrationTest of <paramref name="tests"/> into <see cref="Junit"/>; its results and output.</summary>
    private static async Task<(IReadOnlyList<TestResult> Results, string Output)> TestAsync(Workspace dev, IReadOnlyList<string> tests, bool testsAlways = false)
    {
        var output = new StringWriter();
        var results = await new DevLoop(dev.Engine, new Reporter(output)).TestAsync(Options(dev), new DevTests(tests, Junit(dev), "Shop", testsAlways), CancellationToken.None);
        return (results, output.ToString());
    }

    private static DevLoopOptions Options(Workspace dev) =>
        new(dev.Files, dev.ConnectionVariable, DevDatabaseMode.Auto, Path.Combine(dev.Folder, "obj"), TimeSpan.FromSeconds(30));

    /// <summary>MigrationDeployDev of every migration of the folder; the diagnostics that stopped it (empty on success).</summary>
    private static async Task<(IReadOnlyList<Diagnostic> Problems, string Output)> DeployAsync(Workspace dev)
    {
        var output = new StringWriter();
        try
        {
            await new DevLoop(dev.Engine, new Reporter(output)).DeployAsync(Options(dev), CancellationToken.None);
            return ([], output.ToString());
        }
        catch (DiagnosticException e)
        {
            return (e.Diagnostics, output.ToString());
        }
    }
}
