using Microsoft.Build.Framework;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Tasks.Tests;

/// <summary>
/// What the build log shows of the CLI's output: its canonical lines (<c>file(line,col): error MIG1234: text</c>)
/// become MSBuild errors and warnings placed at the file and line, the rest are messages, and its exit code decides
/// whether the task failed.
/// </summary>
[TestFixture]
public sealed class MigrationToolLogTests
{
    [Test]
    public void A_canonical_error_line_becomes_an_error_at_its_file_line_and_column_with_its_code()
    {
        using var run = new FakeCliRun("check");
        var file = run.PathOf("Migrations", "V2__add column.sql");
        run.StandardOutput.Add($"{file}(3,15): error MIG2004: V2__add column.sql: syntax error at or near \"COLUM\"");
        run.ExitCode = 1;

        run.Execute();

        Assert.That(run.Succeeded, Is.False);
        var error = run.Engine.Errors.Single();
        Assert.That((error.Code, error.File, error.LineNumber, error.ColumnNumber, error.Message),
            Is.EqualTo(("MIG2004", file, 3, 15, "V2__add column.sql: syntax error at or near \"COLUM\"")));
    }

    [Test]
    public void A_canonical_warning_line_becomes_a_warning_and_the_task_still_succeeds()
    {
        using var run = new FakeCliRun("validate-staging");
        run.StandardOutput.Add("/src/Shop/Migrations/V7__drop.sql(12): warning MIG4003: drops column customer.fax, which holds 120 rows");

        run.Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.Engine.Errors, Is.Empty);
        var warning = run.Engine.Warnings.Single();
        Assert.That((warning.Code, warning.File, warning.LineNumber, warning.ColumnNumber, warning.Message),
            Is.EqualTo(("MIG4003", "/src/Shop/Migrations/V7__drop.sql", 12, 0, "drops column customer.fax, which holds 120 rows")));
    }

    [Test]
    public void An_error_of_no_file_is_placed_at_migrate()
    {
        using var run = new FakeCliRun("deploy-dev");
        run.StandardOutput.Add("migrate: error MIG1004: the server cannot be reached: Connection refused");
        run.ExitCode = 1;

        run.Execute();

        var error = run.Engine.Errors.Single();
        Assert.That((error.Code, error.File, error.LineNumber, error.Message),
            Is.EqualTo(("MIG1004", "migrate", 0, "the server cannot be reached: Connection refused")));
    }

    [Test]
    public void Progress_lines_are_messages_a_normal_build_shows()
    {
        using var run = new FakeCliRun("deploy-dev");
        run.StandardOutput.Add("applying V3__add_index.sql …");
        run.StandardOutput.Add("deployed 1 migration(s) to dev database shop_dev");

        run.Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.Engine.Errors, Is.Empty);
        Assert.That(run.Engine.Warnings, Is.Empty);
        Assert.That(run.Engine.Messages.Where(m => m.Importance == MessageImportance.High).Select(m => m.Message),
            Is.SupersetOf(new[] { "applying V3__add_index.sql …", "deployed 1 migration(s) to dev database shop_dev" }));
    }

    [Test]
    // MSBuild's own reading of tool output takes each of these for an error or warning (of no code), and would fail
    // a build the CLI did not fail: the CLI's problems always carry a MIG code.
    [TestCase("error handling: 3 tests passed")]
    [TestCase("shop_dev: network error: timeout, retrying")]
    [TestCase("WARNING: there is no transaction in progress")]
    [TestCase("tests/orders.sql: warning: none")]
    public void A_progress_line_that_looks_like_an_error_of_no_MIG_code_is_a_message(string line)
    {
        using var run = new FakeCliRun("test");
        run.StandardOutput.Add(line);

        run.Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.Engine.Errors, Is.Empty);
        Assert.That(run.Engine.Warnings, Is.Empty);
        Assert.That(run.Engine.Messages.Select(m => m.Message), Does.Contain(line));
    }

    [Test]
    public void A_progress_line_with_braces_is_logged_as_it_is()
    {
        using var run = new FakeCliRun("test");
        run.StandardOutput.Add("seeding {customer} with VALUES ('{0}', '{x}')");

        run.Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.Engine.Messages.Select(m => m.Message), Does.Contain("seeding {customer} with VALUES ('{0}', '{x}')"));
    }

    [Test]
    public void Canonical_lines_on_standard_error_are_mapped_too()
    {
        using var run = new FakeCliRun("check");
        run.StandardError.Add("migrate: error MIG1001: unknown verb 'chek'");
        run.ExitCode = 2;

        run.Execute();

        Assert.That(run.Succeeded, Is.False);
        Assert.That(run.Engine.Errors.Select(e => e.Code), Is.EqualTo(new[] { "MIG1001" }));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void A_failing_exit_with_its_error_line_fails_the_task_with_that_error_alone(int exitCode)
    {
        using var run = new FakeCliRun("deploy");
        run.StandardOutput.Add("migrate: error MIG6010: production's history is not the state the release package was built for");
        run.ExitCode = exitCode;

        run.Execute();

        Assert.That(run.Succeeded, Is.False);
        Assert.That(run.Engine.Errors.Select(e => e.Code), Is.EqualTo(new[] { "MIG6010" }), "no second error repeats the exit code");
    }

    [Test]
    public void A_failing_exit_without_an_error_line_still_fails_the_task_and_says_which_verb_and_code()
    {
        using var run = new FakeCliRun("deploy-dev");
        run.StandardOutput.Add("applying V3__add_index.sql …");
        run.StandardError.Add("Unhandled exception. System.InvalidOperationException: boom");
        run.ExitCode = 134;

        run.Execute();

        Assert.That(run.Succeeded, Is.False);
        var error = run.Engine.Errors.Single();
        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.CliFailedWithoutError));
        Assert.That(error.Message, Does.StartWith("migrate deploy-dev exited with code 134 but reported no error"), run.Engine.Log);
        Assert.That(run.Engine.Messages.Select(m => m.Message), Does.Contain("Unhandled exception. System.InvalidOperationException: boom"),
            "what the CLI said before it died is in the log");
    }

    [Test]
    public void An_error_line_fails_the_task_even_when_the_cli_exits_zero()
    {
        using var run = new FakeCliRun("check");
        run.StandardOutput.Add("/src/Shop/Migrations/V1__a.sql(1,1): error MIG2001: not a migration file name");

        run.Execute();

        Assert.That(run.Succeeded, Is.False, "a task that logged an error must not report success");
        Assert.That(run.Engine.Errors.Select(e => e.Code), Is.EqualTo(new[] { "MIG2001" }));
    }
}
