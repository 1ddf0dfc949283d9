using System.CommandLine;

namespace MigrationTasks.Cli.Tests;

/// <summary>
/// A command line that does not parse is MIG1001 with what to do, and exit code 2, for every verb (the build verbs
/// included: a usage error touched nothing, as a refused deploy).
/// </summary>
public sealed class UsageErrorTests
{
    private static IEnumerable<string> Verbs => MigrateCommand.VerbNames;

    [Test]
    public async Task An_unknown_option_exits_2_with_MIG1001_naming_the_closest_valid_one()
    {
        var (exit, output) = await Cli.RunProcessAsync(["deploy", "--conection-variable", "SHOP_PRODUCTION"]);

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG1001: '--conection-variable' is not an option of 'deploy': did you mean --connection-variable?"));
        Assert.That(output, Does.Contain("`migrate deploy --help`"));
        Assert.That(output, Does.Not.Contain("is required"), "the misspelt option is the one problem, not also a missing one");
    }

    [TestCaseSource(nameof(Verbs))]
    public async Task Every_verb_refuses_an_unknown_option_with_exit_code_2(string verb)
    {
        var (exit, output) = await Cli.RunAsync(verb, "--no-such-option", "value");

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain($"error MIG1001: '--no-such-option' is not an option of '{verb}'"));
        Assert.That(output, Does.Not.Contain("'value'"), "the unknown option's value is not a second error");
    }

    [Test]
    public async Task An_option_of_another_verb_names_the_verbs_that_take_it()
    {
        var (exit, output) = await Cli.RunAsync("plan", "--engine", "PostgreSql", "--connection-variable", "V");

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("'--engine' is not an option of 'plan' (it is one of check,").And.Contain("'plan' takes --connection-variable, --release-dir, --trust, --allow-unsigned"));
    }

    [Test]
    public async Task An_unknown_verb_exits_2_naming_the_closest_verb()
    {
        var (exit, output) = await Cli.RunProcessAsync(["deplyo", "--connection-variable", "V"]);

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG1001: 'deplyo' is not a verb: did you mean deploy? Verbs: check, build-dacpac,"));
        Assert.That(output.Trim().Split('\n'), Has.Length.EqualTo(1), "one error: what follows an unknown verb cannot be judged");
    }

    [Test]
    public async Task No_verb_exits_2_with_the_usage()
    {
        var (exit, output) = await Cli.RunAsync();

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG1001: no verb given: the usage is migrate <verb> [--option value]…").And.Contain("`migrate --help`"));
    }

    [Test]
    public async Task An_option_before_the_verb_says_that_options_follow_it()
    {
        var (exit, output) = await Cli.RunAsync("--connection-variable", "V", "plan");

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("'--connection-variable' comes before the verb: the usage is migrate plan --connection-variable …"));
    }

    [TestCase("restore", "--backup <id>", "--connection-variable", "V")]
    [TestCase("deploy", "--connection-variable <VAR>")]
    [TestCase("test", "--junit <file>")]
    [TestCase("package", "--publish-dir <dir>", "--package-id", "shop")]
    public async Task A_missing_required_option_exits_2_naming_it_and_what_it_is_for(string verb, string missing, params string[] given)
    {
        var (exit, output) = await Cli.RunAsync([verb, .. given]);

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain($"error MIG1001: the option {missing} is required by '{verb}': "));
    }

    [TestCase("deploy", "--lock-timeout", "soon", "--lock-timeout 'soon' is not a number of seconds.")]
    [TestCase("deploy", "--lock-wait", "-1", "--lock-wait '-1' is not a number of seconds.")]
    [TestCase("deploy", "--monitor-seconds", "1m", "--monitor-seconds '1m' is not a number of seconds.")]
    [TestCase("deploy", "--lock-retries", "101", "--lock-retries '101' is not a whole number from 0 to 100.")]
    [TestCase("deploy", "--lock-retries", "2.5", "--lock-retries '2.5' is not a whole number from 0 to 100.")]
    [TestCase("deploy-dev", "--lock-timeout", "NaN", "--lock-timeout 'NaN' is not a number of seconds.")]
    [TestCase("package", "--statement-lock-timeout", "two", "--statement-lock-timeout 'two' is not a number of seconds.")]
    [TestCase("deploy", "--window", "02:00", "--window '02:00' is not a daily UTC window like 22:00-02:00")]
    [TestCase("deploy-dev", "--dev-database", "sometimes", "MigrationDevDatabase 'sometimes' is not 'auto' or 'none'.")]
    [TestCase("check", "--engine", "Oracle", "MigrationEngine 'Oracle' is not supported; use SqlServer or PostgreSql.")]
    [TestCase("build-dacpac", "--sql-server-version", "Sql2022", "MigrationSqlServerVersion (or DSP) 'Sql2022' is not a SQL Server version")]
    public async Task A_bad_value_exits_2_naming_the_option(string verb, string option, string value, string message)
    {
        string[] required = verb switch
        {
            "deploy" => ["--connection-variable", "V"],
            "package" => ["--publish-dir", "p", "--package-id", "shop"],
            "build-dacpac" => ["--out", "x.dacpac"],
            _ => [],
        };

        var (exit, output) = await Cli.RunAsync([verb, .. required, option, value]);

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG1001: " + message));
    }

    [Test]
    public async Task A_bad_value_a_build_verb_finds_itself_also_exits_2()
    {
        var (exit, output) = await Cli.RunAsync("build-dacpac", "--out", "x.dacpac", "--pre-deploy", "a.sql", "--pre-deploy", "b.sql");

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG1001: --pre-deploy was given 2 files (a.sql, b.sql); a dacpac carries one pre-deploy script"));
    }

    [Test]
    public void Given_twice_an_options_last_value_counts_and_a_repeatable_one_keeps_every_value()
    {
        var parsed = MigrateCommand.Parse([
            "deploy", "--connection-variable", "DEFAULT", "--lock-wait", "0", "--hash-rows", "--connection-variable", "SHOP", "--lock-wait", "2.5", "--hash-rows",
        ]);
        var files = MigrateCommand.Parse(["check", "--migration", "V1__a.sql", "--migration", "V2__b.sql"]);

        Assert.That(parsed.Errors.Select(e => e.Message), Is.Empty);
        Assert.That(
            (parsed.GetValue(CliOptions.ConnectionVariable), parsed.GetValue(CliOptions.LockWait), parsed.GetValue(CliOptions.HashRows)),
            Is.EqualTo(("SHOP", (double?)2.5, true)));
        Assert.That(files.GetValue(CliOptions.Migration), Is.EqualTo(new[] { "V1__a.sql", "V2__b.sql" }));
    }

    [TestCase("--conection-variable", "--connection-variable")]
    [TestCase("--connection", "--connection-variable")]
    [TestCase("--backupdir", "--backup-dir")]
    [TestCase("--report-dri", "--report-dir")]
    [TestCase("--tust", "--trust")]
    [TestCase("--frobnicate", null)]
    public void The_closest_option_is_suggested_only_when_it_is_near(string typed, string? expected) =>
        Assert.That(
            UsageErrors.Closest(typed, ["--connection-variable", "--backup-dir", "--backup", "--report-dir", "--trust", "--release-dir"]),
            Is.EqualTo(expected));
}
