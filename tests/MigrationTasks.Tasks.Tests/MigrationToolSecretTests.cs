using MigrationTasks.Diagnostics;

namespace MigrationTasks.Tasks.Tests;

/// <summary>
/// Connection strings never pass through MSBuild: the task hands the CLI the NAME of the environment variable, and
/// the CLI, a child process, reads the value from the environment it inherits. MSBuild logs a tool's whole command
/// line and response file, so the value must be on neither.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class MigrationToolSecretTests
{
    private const string Variable = "MIGRATIONTASKS_TASKS_TEST_CONNECTION";
    private static readonly string Secret = $"Server=db.example;Database=shop;User ID=deploy;Password=hunter2-{Guid.NewGuid():N}";

    [SetUp]
    public void SetSecret() => Environment.SetEnvironmentVariable(Variable, Secret);

    [TearDown]
    public void ClearSecret() => Environment.SetEnvironmentVariable(Variable, null);

    [Test]
    public void The_connection_string_reaches_the_cli_only_through_its_environment()
    {
        using var run = new FakeCliRun("deploy-dev");
        run.Task.ConnectionVariable = Variable;
        run.StandardOutput.Add("deployed to dev");

        run.Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.ConnectionSeenByCli, Is.EqualTo(Secret), "the CLI can read it");
        Assert.That(run.ResponseLines, Does.Contain("--connection-variable").And.Contain(Variable));
        Assert.That(run.ResponseFileText, Does.Not.Contain("hunter2"));
        Assert.That(run.Arguments, Has.None.Contain("hunter2"));
        Assert.That(run.Engine.Log, Does.Contain(Variable).And.Not.Contain("hunter2"), "the log shows the command line, with the name only");
    }

    [Test]
    public void A_connection_string_given_where_a_variable_name_belongs_is_refused_without_repeating_it()
    {
        using var run = new FakeCliRun("deploy-dev");
        run.Task.ConnectionVariable = Secret;

        run.Execute();

        Assert.That(run.Succeeded, Is.False);
        Assert.That(run.ResponseFileText, Is.Null, "the CLI was not started");
        var error = run.Engine.Errors.Single();
        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.InvalidOption));
        Assert.That(error.Message, Does.Contain("name of an environment variable"));
        Assert.That(run.Engine.Log, Does.Not.Contain("hunter2"));
    }
}
