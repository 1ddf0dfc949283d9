using System.CommandLine;
using System.Reflection;
using Microsoft.Build.Framework;
using TaskItem = Microsoft.Build.Utilities.TaskItem;
using MigrationTasks.Tasks;

namespace MigrationTasks.Cli.Tests;

/// <summary>
/// The MSBuild task (MigrationTool) passes every option in a response file, one argument per line: the files it
/// writes are read back exactly, a path with spaces staying one argument, and every option it writes for a verb is one
/// that verb takes (the targets' calls, with each property they set).
/// </summary>
public sealed class ResponseFileTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("migrationtasks cli tests ").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task A_response_file_the_task_writes_keeps_a_path_with_spaces_as_one_argument()
    {
        var migration = Write(Path.Combine("My Project", "Migrations", "V1__create customer.sql"), "CREATE TABLE customer (id int PRIMARY KEY);\n");
        var file = ResponseFile(new MigrationTool { Verb = "check", Engine = "PostgreSql", Migrations = [new TaskItem(migration)] });

        var parsed = MigrateCommand.Parse(["@" + file]);
        var (exit, output) = await Cli.RunAsync("@" + file);

        Assert.That(parsed.Errors, Is.Empty);
        Assert.That(parsed.CommandResult.Command.Name, Is.EqualTo("check"));
        Assert.That(parsed.GetValue(CliOptions.Migration), Is.EqualTo(new[] { migration }));
        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("Checked 1 migration file(s)"));
    }

    [Test]
    public void A_line_is_never_split_unquoted_or_expanded_again()
    {
        var inner = Write("inner.rsp", "--engine\nSqlServer\n");
        var file = Write("args.rsp", $"resolve\r\n--connection-variable\r\nV\r\n\r\n--reason\r\n@{inner}\r\n--engine\r\n\"PostgreSql\"\r\n");

        var parsed = MigrateCommand.Parse(["@" + file]);

        Assert.That(parsed.GetValue(CliOptions.Reason), Is.EqualTo("@" + inner), "an '@' inside a response file is a value, not another file");
        Assert.That(parsed.Errors.Select(e => e.Message), Has.One.Contains("MigrationEngine '\"PostgreSql\"' is not supported"), "quotes are not removed");
    }

    [Test]
    public void An_at_sign_that_names_no_file_is_an_argument_as_it_stands()
    {
        var parsed = MigrateCommand.Parse(["resolve", "--connection-variable", "V", "--reason", "@alice restored it by hand"]);

        Assert.That(parsed.Errors, Is.Empty);
        Assert.That(parsed.GetValue(CliOptions.Reason), Is.EqualTo("@alice restored it by hand"));
    }

    /// <summary>Each call of the task in build/MigrationTasks.targets, with every property it sets given a value.</summary>
    private static IEnumerable<TestCaseData> TargetsCalls()
    {
        ITaskItem[] Items(string name) => [new TaskItem($"/p/My Project/{name} 1.sql"), new TaskItem($"/p/My Project/{name} 2.sql")];
        yield return new TestCaseData(new MigrationTool { Verb = "check", Engine = "PostgreSql", Migrations = Items("V1__a") }).SetArgDisplayNames("check");
        yield return new TestCaseData(new MigrationTool
        {
            Verb = "build-dacpac", SchemaFiles = Items("Table"), PreDeploy = [new TaskItem("/p/Pre Deploy.sql")], PostDeploy = [new TaskItem("/p/Post Deploy.sql")],
            OutputFile = "/p/bin/My Project.dacpac", SqlCmdVariables = [SqlCmdVariable("Env", "test env")], SqlServerVersion = "Sql160", DatabaseName = "My Project",
            CodeAnalysisRules = "-SR0001;+!SR0005", NoWarn = "MIG1002;\nCS1591", WarningsAsErrors = "MIG2001", WarningsNotAsErrors = "MIG2002", TreatWarningsAsErrors = true,
        }).SetArgDisplayNames("build-dacpac");
        yield return new TestCaseData(new MigrationTool
        {
            Verb = "deploy-dev", Engine = "SqlServer", Migrations = Items("V1__a"), ConnectionVariable = "DEV", DevDatabase = "auto", StateDirectory = "/p/obj/migration tasks/",
            LockTimeout = "60", Dacpac = "/p/obj/My Project.dacpac", SqlServerVersion = "Sql160", AllowDataLoss = true,
        }).SetArgDisplayNames("deploy-dev");
        yield return new TestCaseData(new MigrationTool
        {
            Verb = "test", Engine = "PostgreSql", Migrations = Items("V1__a"), Tests = Items("test"), ConnectionVariable = "DEV", DevDatabase = "none",
            StateDirectory = "/p/obj/", JUnitFile = "/p/bin/migration tests.xml", SuiteName = "My Project", LockTimeout = "0.5", Dacpac = "/p/x.dacpac",
            SqlServerVersion = "Sql150", AllowDataLoss = false,
        }).SetArgDisplayNames("test");
        yield return new TestCaseData(new MigrationTool
        {
            Verb = "validate-staging", Engine = "PostgreSql", Migrations = Items("V1__a"), Checks = Items("check"), ConnectionVariable = "STAGING", StateDirectory = "/p/obj/",
            ReportDirectory = "/p/bin/publish dir/", FindingsAsErrors = true, Dacpac = "/p/x.dacpac", Baseline = "/p/Baseline/production.json", DatabaseName = "shop",
            SqlServerVersion = "Sql160", AllowDataLoss = true,
        }).SetArgDisplayNames("validate-staging");
        yield return new TestCaseData(new MigrationTool
        {
            Verb = "package", Engine = "PostgreSql", Migrations = Items("V1__a"), Checks = Items("check"), Verifies = Items("verify"), StateDirectory = "/p/obj/",
            PublishDirectory = "/p/bin/publish dir/", PackageId = "shop", PackageVersion = "1.2.3", Baseline = "/p/Baseline/production.json",
            SigningCertificate = "/p/signing key.pfx", StagingReport = "/p/bin/staging-report.json", ProjectDirectory = "/p/My Project", Dacpac = "/p/x.dacpac",
            SchemaFiles = Items("Table"), DatabaseName = "shop", SqlServerVersion = "Sql160", AllowDataLoss = true, StatementLockTimeout = "2", FindingsAsErrors = true,
        }).SetArgDisplayNames("package");
    }

    [TestCaseSource(nameof(TargetsCalls))]
    public void Every_option_the_task_writes_is_one_its_verb_takes(MigrationTool task)
    {
        var file = ResponseFile(task);
        var lines = File.ReadAllLines(file);

        var parsed = MigrateCommand.Parse(["@" + file]);

        Assert.That(parsed.Errors.Select(e => e.Message), Is.Empty);
        Assert.That(parsed.CommandResult.Command.Name, Is.EqualTo(task.Verb));
        // Every value the task wrote reached an option of the verb, whole.
        var values = parsed.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>().SelectMany(o => o.Tokens).Select(t => t.Value).ToList();
        Assert.That(values, Is.EquivalentTo(lines.Skip(1).Where(l => !l.StartsWith("--", StringComparison.Ordinal))));
        if (task.FindingsAsErrors)
        {
            Assert.That(parsed.GetValue(CliOptions.FindingsAsErrors), Is.True);
        }

        if (task.AllowDataLoss)
        {
            Assert.That(parsed.GetValue(CliOptions.AllowDataLoss), Is.True);
        }
    }

    private static TaskItem SqlCmdVariable(string name, string value)
    {
        var item = new TaskItem(name);
        item.SetMetadata("Value", value);
        return item;
    }

    /// <summary>The response file the task gives the CLI (ToolTask writes what GenerateResponseFileCommands returns, in UTF-8).</summary>
    private string ResponseFile(MigrationTool task)
    {
        var commands = (string)typeof(MigrationTool)
            .GetMethod("GenerateResponseFileCommands", BindingFlags.Instance | BindingFlags.NonPublic)!
            .Invoke(task, null)!;
        return Write($"{task.Verb} {Guid.NewGuid():N}.rsp", commands);
    }

    private string Write(string relativePath, string text)
    {
        var path = Path.Combine(_folder, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
