using System.Xml.Linq;
using MigrationTasks.PostgreSql.Tests;
using MigrationTasks.Testing;
using Npgsql;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// `dotnet build` of a database project that references the real packed MigrationTasks package: check, dev deploy,
/// database tests, incremental skips and the errors a developer meets, on real PostgreSQL.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class DevLoopTests
{
    private static Dictionary<string, string?> DevConnection(string connectionString) =>
        new() { ["MIGRATIONTASKS_DEV_CONNECTION"] = connectionString };

    [Test]
    public async Task Build_of_the_sample_deploys_to_a_throwaway_dev_database_and_passes_its_tests()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");

        var (exitCode, output) = await project.BuildAsync();

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Not.Match(@"warning NU\d{4}"), "the package brings the consumer no NuGet warning (it declares no dependencies)");
        Assert.That(output, Does.Contain("throwaway PostgreSql server"));
        Assert.That(output, Does.Contain("applying V1__create_catalog.sql"));
        Assert.That(output, Does.Contain("V5__index_orders_by_customer.sql (1 statement(s), outside a transaction, statement by statement (CREATE INDEX CONCURRENTLY"));
        // The first build proves the chain on the local server's cached state (all but the newest migration), then
        // the empty throwaway dev database starts as a copy of that state and takes the newest ones.
        Assert.That(output, Does.Contain("applied 5 migration(s)"), "V1 to V5 on the cached state");
        Assert.That(output, Does.Contain("copied from the proven state"));
        Assert.That(output, Does.Contain("/dev: applied 2 migration(s)"), "V5_1 and the repeatable on dev");
        Assert.That(output, Does.Contain("3 test(s) passed, 0 failed"));
        var suite = XDocument.Load(project.TestReport).Root!.Element("testsuite")!;
        Assert.That((int)suite.Attribute("tests")!, Is.EqualTo(3));
        Assert.That((int)suite.Attribute("failures")!, Is.EqualTo(0));
        Assert.That((int)suite.Attribute("errors")!, Is.EqualTo(0));
    }

    [Test]
    public async Task Without_a_dev_database_the_build_checks_the_migrations_and_warns_MIG1002()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var broken = project.Write("Migrations/V9__unterminated.sql", "SELECT 'never closed;\n");
        var noServer = new Dictionary<string, string?> { ["MIGRATIONTASKS_POSTGRES_BIN"] = "/nonexistent" };

        var (failed, failedOutput) = await project.BuildAsync(noServer);
        Assert.That(failed, Is.Not.EqualTo(0));
        Assert.That(failedOutput, Does.Contain($"{broken}(1,8): error MIG2003: unterminated quoted string"), "the offline check still runs");

        project.Delete("Migrations/V9__unterminated.sql");
        var (exitCode, output) = await project.BuildAsync(noServer);

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("warning MIG1002: no dev database: the environment variable MIGRATIONTASKS_DEV_CONNECTION is not set"));
        Assert.That(output, Does.Not.Contain("applying"));
        Assert.That(File.Exists(project.TestReport), Is.False);
    }

    [Test]
    public async Task With_MigrationDevDatabase_none_the_build_deploys_nothing_even_with_a_connection()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();

        var (exitCode, output) = await project.BuildAsync(DevConnection(dev), "-p:MigrationDevDatabase=none");

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("MigrationDevDatabase is 'none'"));
        var history = await PostgresServer.QueryAsync(dev, "SELECT to_regclass('migrationtasks.history') IS NULL");
        Assert.That(history[0][0], Is.EqualTo("t"));
    }

    [Test]
    public async Task Build_records_every_migration_in_the_dev_database_history()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();

        var (exitCode, output) = await project.BuildAsync(DevConnection(dev));

        Assert.That(exitCode, Is.EqualTo(0), output);
        var rows = await PostgresServer.QueryAsync(dev, "SELECT coalesce(version, 'R'), script, outcome, statements_applied, statements_total FROM migrationtasks.history ORDER BY id");
        Assert.That(rows.Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]}/{r[4]}"), Is.EqualTo(new[]
        {
            "1 V1__create_catalog.sql success 2/2",
            "2 V2__create_orders.sql success 3/3",
            "3 V3__order_total_function.sql success 2/2",
            "4 V4__seed_data.sql success 4/4",
            "5 V5__index_orders_by_customer.sql success 1/1",
            "5.1 V5_1__order_summary_view.sql success 1/1",
            "R R__customer_stats.sql success 1/1",
        }));
        Assert.That(output, Does.Contain("is empty, so deploying to it validates every migration from scratch"), "an empty dev database needs no shadow");

        project.Write("Migrations/V6__product_stock.sql", "ALTER TABLE product ADD COLUMN stock integer NOT NULL DEFAULT 0;");
        var (again, againOutput) = await project.BuildAsync(DevConnection(dev));

        Assert.That(again, Is.EqualTo(0), againOutput);
        Assert.That(againOutput, Does.Contain("shadow database"), "every migration is first applied to an empty shadow database");
        Assert.That(await PostgresServer.QueryAsync(dev, "SELECT count(*) FROM migrationtasks.history"), Has.One.Items.EqualTo(new[] { "8" }));
    }

    [Test]
    public async Task A_second_build_does_no_migration_work_and_a_changed_or_deleted_file_runs_it_again()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();
        var (first, firstOutput) = await project.BuildAsync(DevConnection(dev), "-v:d");
        Assert.That(first, Is.EqualTo(0), firstOutput);

        var (second, secondOutput) = await project.BuildAsync(DevConnection(dev), "-v:d");

        Assert.That(second, Is.EqualTo(0), secondOutput);
        Assert.That(secondOutput, Does.Not.Contain("Checked "), "no check step: the dev deploy checks the migrations itself");
        Assert.That(secondOutput, Does.Contain("Skipping target \"_MigrationDeployDev\" because all output files are up-to-date"));
        Assert.That(secondOutput, Does.Contain("Skipping target \"_MigrationTest\" because all output files are up-to-date"));
        Assert.That(secondOutput, Does.Not.Contain("Task \"MigrationTool\""), "no CLI process, so no connection");
        Assert.That(firstOutput, Does.Contain("Task \"MigrationTool\""), "the assertion above would see a run");

        project.Write("Migrations/V6__add_product_stock.sql", "ALTER TABLE product ADD COLUMN stock integer NOT NULL DEFAULT 0;");
        var (third, thirdOutput) = await project.BuildAsync(DevConnection(dev));
        Assert.That(third, Is.EqualTo(0), thirdOutput);
        Assert.That(thirdOutput, Does.Contain("applying V6__add_product_stock.sql"));

        project.Delete("Tests/every_customer_has_stats.sql");
        var (fourth, fourthOutput) = await project.BuildAsync(DevConnection(dev));
        Assert.That(fourth, Is.EqualTo(0), fourthOutput);
        Assert.That(fourthOutput, Does.Contain("0 of 2 tests ran: inputs of 2 unchanged since they passed."), "deleting a test runs the test step again");
        Assert.That(XDocument.Load(project.TestReport).Descendants("testcase").Count(), Is.EqualTo(2), "which drops it from the report");
    }

    [Test]
    public async Task After_one_test_is_edited_the_build_runs_only_it_and_the_report_still_lists_every_test()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();
        var (first, firstOutput) = await project.BuildAsync(DevConnection(dev));
        Assert.That(first, Is.EqualTo(0), firstOutput);
        Assert.That(firstOutput, Does.Contain("3 of 3 tests ran: no earlier run is recorded."));

        var edited = project.Write("Tests/order_totals_are_computed.sql", File.ReadAllText(Path.Combine(project.Directory, "Tests", "order_totals_are_computed.sql")) + "\n-- edited\n");
        var (second, secondOutput) = await project.BuildAsync(DevConnection(dev), "-v:d");

        Assert.That(second, Is.EqualTo(0), secondOutput);
        Assert.That(secondOutput, Does.Contain("Skipping target \"_MigrationDeployDev\" because all output files are up-to-date"));
        Assert.That(secondOutput, Does.Contain($"test passed: {edited}"));
        Assert.That(secondOutput, Does.Contain("1 test(s) passed, 0 failed"));
        Assert.That(secondOutput, Does.Contain("1 of 3 tests ran: inputs of 2 unchanged since they passed."));
        var suite = XDocument.Load(project.TestReport).Root!.Element("testsuite")!;
        Assert.That(((int)suite.Attribute("tests")!, (int)suite.Attribute("failures")!, (int)suite.Attribute("errors")!), Is.EqualTo((3, 0, 0)));
        Assert.That(suite.Elements("testcase").Count(c => (string?)c.Element("system-out") == JUnitReport.KeptNote), Is.EqualTo(2));

        var (always, alwaysOutput) = await project.BuildAsync(DevConnection(dev), "-p:MigrationTestsAlways=true");

        Assert.That(always, Is.EqualTo(0), alwaysOutput);
        Assert.That(alwaysOutput, Does.Contain("3 of 3 tests ran: every test was asked for (MigrationTestsAlways or MigrationForceDeployDev)."), "flipping the switch runs the test step");
    }

    [Test]
    public async Task A_failing_database_test_fails_the_build_at_its_file_and_line_with_the_rows()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var test = project.Write("Tests/no_customer_is_named_ada.sql", "-- finds a customer that exists\n\nSELECT email, name\nFROM customer WHERE name LIKE 'Ada%';\n");

        var (exitCode, output) = await project.BuildAsync();

        Assert.That(exitCode, Is.Not.EqualTo(0));
        Assert.That(output, Does.Contain($"{test}(3,1): error MIG3001: test failed: its last query returned 1 row(s)"));
        Assert.That(output, Does.Contain("(email=ada@example.com, name=Ada Lovelace)"));
        var report = XDocument.Load(project.TestReport).Root!.Element("testsuite")!;
        Assert.That((int)report.Attribute("failures")!, Is.EqualTo(1));

        var (again, againOutput) = await project.BuildAsync();
        Assert.That(again, Is.Not.EqualTo(0), "a failed test step is not skipped by the next build: " + againOutput);
    }

    [Test]
    public async Task A_syntax_error_in_a_migration_fails_the_build_at_its_file_line_and_column()
    {
        var project = await DatabaseProject.CreateAsync();
        project.Write("Migrations/V1__ok.sql", "CREATE TABLE a (id int);\n");
        var broken = project.Write("Migrations/V2__broken.sql", "CREATE TABLE b (id int);\n\nCREATE TABLE c (\n    id int,\n    name txet NOT NULL\n);\n");

        var (exitCode, output) = await project.BuildAsync();

        Assert.That(exitCode, Is.Not.EqualTo(0));
        Assert.That(output, Does.Contain($"{broken}(5,10): error MIG2004: V2__broken.sql failed on "));
        Assert.That(output, Does.Contain("42704: type \"txet\" does not exist"));
        Assert.That(output, Does.Contain("Its transaction was rolled back"));
    }

    [Test]
    public async Task Two_migrations_with_one_version_fail_the_build_naming_both_files()
    {
        var project = await DatabaseProject.CreateAsync();
        var first = project.Write("Migrations/V1_1__first.sql", "CREATE TABLE a (id int);");
        var second = project.Write("Migrations/V1.1__second.sql", "CREATE TABLE b (id int);");

        var (exitCode, output) = await project.BuildAsync();

        Assert.That(exitCode, Is.Not.EqualTo(0));
        Assert.That(output, Does.Contain("error MIG2002: version 1.1 is used by more than one file"));
        Assert.That(output, Does.Contain(first).And.Contain(second));
        Assert.That(output, Does.Not.Contain("applying"), "nothing runs");
    }

    [Test]
    public async Task An_edited_applied_migration_is_an_error_before_anything_runs()
    {
        var project = await DatabaseProject.CreateAsync();
        var dev = await PostgresServer.CreateDatabaseAsync();
        var edited = project.Write("Migrations/V1__create.sql", "CREATE TABLE a (id int);");
        var (first, firstOutput) = await project.BuildAsync(DevConnection(dev));
        Assert.That(first, Is.EqualTo(0), firstOutput);

        project.Write("Migrations/V1__create.sql", "CREATE TABLE a (id bigint);");
        project.Write("Migrations/V2__more.sql", "CREATE TABLE b (id int);");
        var (exitCode, output) = await project.BuildAsync(DevConnection(dev));

        Assert.That(exitCode, Is.Not.EqualTo(0));
        Assert.That(output, Does.Contain($"{edited}(1,1): error MIG7001: V1__create.sql was applied on"));
        var tables = await PostgresServer.QueryAsync(dev, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'");
        Assert.That(tables[0][0], Is.EqualTo("0"), "V2 must not run");
    }

    [Test]
    public async Task Two_builds_against_one_dev_database_at_once_apply_each_migration_once()
    {
        var dev = await PostgresServer.CreateDatabaseAsync();
        var left = await DatabaseProject.FromSampleAsync("PgShop");
        var right = await DatabaseProject.FromSampleAsync("PgShop");
        // A slow first migration keeps the lock long enough for the other build to wait on it.
        foreach (var project in new[] { left, right })
        {
            project.Write("Migrations/V0_1__slow_start.sql", "SELECT pg_sleep(2);");
        }

        var builds = await Task.WhenAll(left.BuildAsync(DevConnection(dev)), right.BuildAsync(DevConnection(dev)));

        Assert.That(builds.Select(b => b.ExitCode), Is.All.EqualTo(0), string.Join("\n----\n", builds.Select(b => b.Output)));
        var rows = await PostgresServer.QueryAsync(dev, "SELECT script, count(*) FROM migrationtasks.history GROUP BY script HAVING count(*) > 1");
        Assert.That(rows, Is.Empty, "one history row per script");
        var total = await PostgresServer.QueryAsync(dev, "SELECT count(*) FROM migrationtasks.history");
        Assert.That(total[0][0], Is.EqualTo("8"));
        Assert.That(builds.Count(b => b.Output.Contains("up to date, no migration to apply", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public async Task A_password_in_the_connection_string_appears_nowhere_in_diagnostic_output_or_the_binary_log()
    {
        const string password = "Sup3r-Secret-Pa55word";
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = new NpgsqlConnectionStringBuilder(await PostgresServer.CreateDatabaseAsync()) { Password = password }.ConnectionString;
        var binlog = Path.Combine(project.Directory, "build.binlog");

        var (exitCode, output) = await project.BuildAsync(DevConnection(dev), "-v:diag", $"-bl:{binlog}");

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("applied 7 migration(s)"), "the build really used the connection string");
        Assert.That(output, Does.Not.Contain(password));
        Assert.That(BinaryLogText.ReadAll(binlog), Does.Not.Contain(password));
    }
}
