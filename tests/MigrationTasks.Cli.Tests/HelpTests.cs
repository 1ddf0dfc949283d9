using System.CommandLine;

namespace MigrationTasks.Cli.Tests;

/// <summary>`migrate --help` and `migrate &lt;verb&gt; --help`: the one place where verbs and options are documented.</summary>
public sealed class HelpTests
{
    [Test]
    public async Task Help_exits_0_and_lists_every_verb()
    {
        var (exit, output) = await Cli.RunProcessAsync(["--help"]);

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("Usage:").And.Contain("migrate [command] [options]"));
        Assert.That(MigrateCommand.VerbNames, Is.SupersetOf(new[] { "check", "build-dacpac", "deploy-dev", "test", "validate-staging", "package", "verify", "plan", "deploy", "restore", "resolve", "baseline" }));
        foreach (var verb in MigrateCommand.VerbNames)
        {
            Assert.That(output, Does.Match($@"(?m)^\s+{verb}\s+\S"), $"{verb} is listed with its description");
        }

        Assert.That(output, Does.Not.Contain("model-server"), "the model server is build-dacpac's, not a verb for people");
    }

    [Test]
    public async Task Deploy_help_lists_its_options_with_their_defaults()
    {
        var (exit, output) = await Cli.RunAsync("deploy", "--help");

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("migrate deploy [options]"));
        Assert.That(output, Does.Match(@"--connection-variable <VAR> \(REQUIRED\)\s+The environment variable"));
        Assert.That(output, Does.Match(@"--backup-dir <dir>\s+.*\[default: migration-backups\]"));
        Assert.That(output, Does.Match(@"--report-dir <dir>\s+.*\[default: migration-report\]"));
        Assert.That(output, Does.Match(@"--lock-timeout <seconds>\s+.*\[default: 60\]"));
        Assert.That(output, Does.Match(@"--lock-retries <count>\s+.*0 to 100.*\[default: 4\]"));
        Assert.That(output, Does.Match(@"--lock-wait <seconds>\s+.*Default: the release's MigrationStatementLockTimeout, else 2\."));
        Assert.That(output, Does.Contain("--window <HH:mm-HH:mm>").And.Contain("--discard-later-writes").And.Contain("--trust <cert|thumbprint>"));
        Assert.That(output, Does.Not.Contain("--engine"), "deploy takes the engine from the signed manifest");
    }

    [Test]
    public async Task A_verbs_help_comes_first_even_with_a_bad_option_beside_it()
    {
        var (exit, output) = await Cli.RunAsync("restore", "--bogus", "--help");

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("--backup <id> (REQUIRED)").And.Not.Contain("MIG1001"));
    }

    [Test]
    public void Every_option_of_every_verb_says_what_it_is_for()
    {
        var verbs = MigrateCommand.Command.Subcommands.Where(c => !c.Hidden).ToList();

        Assert.That(verbs.Select(v => v.Name), Is.EqualTo(MigrateCommand.VerbNames));
        foreach (var verb in verbs)
        {
            Assert.That(verb.Description, Is.Not.Null.And.Not.Empty, verb.Name);
            foreach (var option in verb.Options)
            {
                Assert.That(option.Description, Is.Not.Null.And.Length.GreaterThan(10), $"{verb.Name} {option.Name}");
                Assert.That(option.Name, Does.StartWith("--"), $"{verb.Name} {option.Name}");
            }
        }
    }
}
