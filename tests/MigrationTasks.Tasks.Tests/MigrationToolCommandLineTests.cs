using System.Text;

namespace MigrationTasks.Tasks.Tests;

/// <summary>
/// What the task hands the CLI: the dotnet host runs the CLI's path with one argument, <c>@response-file</c>, whose
/// lines are the verb and then <c>--option</c> / value pairs (the CLI splits it on lines only). Read back from the
/// real process the task started.
/// </summary>
[TestFixture]
public sealed class MigrationToolCommandLineTests
{
    [Test]
    public void A_verb_alone_is_a_response_file_of_one_line()
    {
        using var run = new FakeCliRun("check").Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.ResponseFileText, Is.EqualTo("check\n"));
        Assert.That(run.Arguments, Has.Length.EqualTo(1).And.All.StartWith("@"), "the CLI gets the response file and nothing else");
    }

    [Test]
    public void Each_property_is_an_option_line_followed_by_its_value_line_in_a_fixed_order()
    {
        using var run = new FakeCliRun("package");
        run.Task.Engine = "PostgreSql";
        run.Task.ConnectionVariable = "MIGRATIONTASKS_STAGING_CONNECTION";
        run.Task.StateDirectory = run.PathOf("obj", "migration state");
        run.Task.LockTimeout = "60";
        run.Task.StatementLockTimeout = "2";
        run.Task.ReportDirectory = run.PathOf("bin", "staging report");
        run.Task.PublishDirectory = run.PathOf("bin", "publish");
        run.Task.PackageId = "Shop.Database";
        run.Task.PackageVersion = "1.2.3-beta.4";
        run.Task.Baseline = run.PathOf("Baseline", "production.json");
        run.Task.SigningCertificate = run.PathOf("signing cert.pfx");
        run.Task.DatabaseName = "Shop";

        run.Execute();

        Assert.That(run.ResponseLines, Is.EqualTo(new[]
        {
            "package",
            "--engine", "PostgreSql",
            "--connection-variable", "MIGRATIONTASKS_STAGING_CONNECTION",
            "--state-dir", run.PathOf("obj", "migration state"),
            "--lock-timeout", "60",
            "--statement-lock-timeout", "2",
            "--report-dir", run.PathOf("bin", "staging report"),
            "--publish-dir", run.PathOf("bin", "publish"),
            "--package-id", "Shop.Database",
            "--version", "1.2.3-beta.4",
            "--baseline", run.PathOf("Baseline", "production.json"),
            "--signing-certificate", run.PathOf("signing cert.pfx"),
            "--database-name", "Shop",
        }), run.ResponseFileText);
    }

    [Test]
    public void Items_are_passed_by_full_path_one_option_each_in_item_order_spaces_and_all()
    {
        using var run = new FakeCliRun("deploy-dev");
        run.Task.Migrations =
        [
            FakeCliRun.Item(run.PathOf("Migrations", "V1__first table.sql")),
            FakeCliRun.Item(run.PathOf("Migrations", "V2__crème brûlée.sql")),
        ];
        run.Task.Tests = [FakeCliRun.Item(run.PathOf("Tests", "orders are unique.sql"))];
        run.Task.Checks = [FakeCliRun.Item(run.PathOf("Checks", "no orphans.sql"))];
        run.Task.Verifies = [FakeCliRun.Item(run.PathOf("Verify", "row counts.sql"))];
        run.Task.SchemaFiles = [FakeCliRun.Item(run.PathOf("Schema", "dbo", "Tables", "customer.sql"))];
        run.Task.PreDeploy = [FakeCliRun.Item(run.PathOf("Scripts", "pre deploy.sql"))];
        run.Task.PostDeploy = [FakeCliRun.Item(run.PathOf("Scripts", "post deploy.sql"))];

        run.Execute();

        Assert.That(run.ResponseLines, Is.EqualTo(new[]
        {
            "deploy-dev",
            "--schema", run.PathOf("Schema", "dbo", "Tables", "customer.sql"),
            "--pre-deploy", run.PathOf("Scripts", "pre deploy.sql"),
            "--post-deploy", run.PathOf("Scripts", "post deploy.sql"),
            "--migration", run.PathOf("Migrations", "V1__first table.sql"),
            "--migration", run.PathOf("Migrations", "V2__crème brûlée.sql"),
            "--test", run.PathOf("Tests", "orders are unique.sql"),
            "--check", run.PathOf("Checks", "no orphans.sql"),
            "--verify", run.PathOf("Verify", "row counts.sql"),
        }), run.ResponseFileText);
    }

    [Test]
    public void A_relative_item_is_passed_by_its_full_path()
    {
        using var run = new FakeCliRun("check");
        run.Task.Migrations = [FakeCliRun.Item(Path.Combine("Migrations", "V1__a.sql"))];

        run.Execute();

        Assert.That(run.ResponseLines, Is.EqualTo(new[] { "check", "--migration", Path.GetFullPath(Path.Combine("Migrations", "V1__a.sql")) }));
    }

    [Test]
    public void Empty_lists_and_empty_properties_add_nothing()
    {
        using var run = new FakeCliRun("test");
        run.Task.Migrations = [];
        run.Task.Tests = [];
        run.Task.SqlCmdVariables = [];
        run.Task.Engine = "";
        run.Task.NoWarn = "";

        run.Execute();

        Assert.That(run.ResponseFileText, Is.EqualTo("test\n"));
    }

    [Test]
    public void Booleans_are_passed_as_true_and_left_out_when_false()
    {
        using var on = new FakeCliRun("validate-staging");
        on.Task.FindingsAsErrors = true;
        on.Task.AllowDataLoss = true;
        on.Task.TreatWarningsAsErrors = true;
        using var off = new FakeCliRun("validate-staging");

        on.Execute();
        off.Execute();

        Assert.That(on.ResponseLines, Is.EqualTo(new[]
        {
            "validate-staging", "--findings-as-errors", "true", "--allow-data-loss", "true", "--treat-warnings-as-errors", "true",
        }));
        Assert.That(off.ResponseLines, Is.EqualTo(new[] { "validate-staging" }));
    }

    [Test]
    public void Warning_code_lists_written_over_several_lines_stay_one_argument()
    {
        using var run = new FakeCliRun("check");
        run.Task.NoWarn = "MIG4001;\r\n      MIG4002";
        run.Task.WarningsAsErrors = "MIG2004\nMIG2005";
        run.Task.WarningsNotAsErrors = "MIG4003";

        run.Execute();

        Assert.That(run.ResponseLines, Is.EqualTo(new[]
        {
            "check",
            "--no-warn", "MIG4001;;;      MIG4002",
            "--warnings-as-errors", "MIG2004;MIG2005",
            "--warnings-not-as-errors", "MIG4003",
        }));
    }

    [Test]
    public void A_sqlcmd_variable_takes_its_Value_else_its_DefaultValue_on_one_line()
    {
        using var run = new FakeCliRun("build-dacpac");
        run.Task.SqlCmdVariables =
        [
            FakeCliRun.Item("Environment", ("Value", "staging"), ("DefaultValue", "dev")),
            FakeCliRun.Item("Owner", ("DefaultValue", "dbo")),
            FakeCliRun.Item("Banner", ("Value", "two\nlines")),
        ];

        run.Execute();

        Assert.That(run.ResponseLines, Is.EqualTo(new[]
        {
            "build-dacpac",
            "--sqlcmd-variable", "Environment=staging",
            "--sqlcmd-variable", "Owner=dbo",
            "--sqlcmd-variable", "Banner=two;lines",
        }));
    }

    [Test]
    public void The_response_file_is_UTF8_without_a_byte_order_mark()
    {
        using var run = new FakeCliRun("check");
        run.Task.Migrations = [FakeCliRun.Item(run.PathOf("Migrations", "V1__ünïcode.sql"))];

        run.Execute();

        // A BOM would reach the CLI as part of its first argument, the verb.
        Assert.That(run.ResponseFileBytes[..5], Is.EqualTo("check"u8.ToArray()));
        Assert.That(Encoding.UTF8.GetString(run.ResponseFileBytes), Does.Contain("V1__ünïcode.sql\n"));
    }

    [Test]
    public void A_cli_path_with_spaces_reaches_the_host_as_one_argument()
    {
        using var run = new FakeCliRun("check");
        var cli = typeof(FakeMigrate).Assembly.Location;
        var folder = Directory.CreateDirectory(run.PathOf("tools with spaces", "net 10")).FullName;
        // Without its deps.json the host loads the fake from its own folder: it needs no other assembly.
        File.Copy(cli, Path.Combine(folder, Path.GetFileName(cli)));
        File.Copy(Path.ChangeExtension(cli, ".runtimeconfig.json"), Path.Combine(folder, Path.GetFileNameWithoutExtension(cli) + ".runtimeconfig.json"));
        run.Task.CliPath = Path.Combine(folder, Path.GetFileName(cli));

        run.Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.ResponseFileText, Is.EqualTo("check\n"));
        Assert.That(run.Arguments, Has.Length.EqualTo(1));
    }

    [Test]
    public void Without_a_host_the_dotnet_on_PATH_runs_the_cli()
    {
        using var run = new FakeCliRun("check");
        run.Task.DotNetHost = "";

        run.Execute();

        Assert.That(run.Succeeded, Is.True, run.Engine.Log);
        Assert.That(run.ResponseFileText, Is.EqualTo("check\n"));
    }

    [Test]
    public void The_model_server_switch_and_idle_timeout_reach_build_dacpac_only()
    {
        using var run = new FakeCliRun("build-dacpac");
        run.Task.OutputFile = run.PathOf("bin", "Db.dacpac");
        run.Task.ModelServer = "False";
        run.Task.ModelServerIdleTimeout = "30";

        run.Execute();

        Assert.That(run.ResponseLines, Is.EqualTo(new[] { "build-dacpac", "--out", run.PathOf("bin", "Db.dacpac"), "--model-server", "false", "--model-server-idle-timeout", "30" }));
    }
}
