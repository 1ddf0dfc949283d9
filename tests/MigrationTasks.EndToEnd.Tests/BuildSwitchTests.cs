using MigrationTasks.PostgreSql.Tests;
using Npgsql;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// The switches of the build and publish hooks (MigrationEnabled, MigrationDeployOnBuild, MigrationForceDeployDev),
/// the dev-deploy stamp keyed on where the dev variable points, and what `dotnet clean` removes: real `dotnet build`,
/// `publish` and `clean` of projects that reference the packed package, on the suite's throwaway PostgreSQL server.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class BuildSwitchTests
{
    // Nothing listens on port 1: a build that tried to connect would fail (MIG1004), not skip.
    private const string Unreachable = "Host=127.0.0.1;Port=1;Username=nobody;Database=nowhere;Timeout=3";

    private static Dictionary<string, string?> DevConnection(string connectionString) =>
        new() { ["MIGRATIONTASKS_DEV_CONNECTION"] = connectionString };

    [Test]
    public async Task With_MigrationEnabled_false_neither_build_nor_publish_does_any_migration_work()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        // Even a migration the check would refuse: with the package off, nothing looks at it.
        project.Write("Migrations/V9__unterminated.sql", "SELECT 'never closed;\n");

        var (built, buildOutput) = await project.BuildAsync(DevConnection(Unreachable), "-p:MigrationEnabled=false", "-v:d");

        Assert.That(built, Is.EqualTo(0), buildOutput);
        Assert.That(buildOutput, Does.Not.Contain("Task \"MigrationTool\""), "no CLI process, so no check and no connection");
        Assert.That(buildOutput, Does.Not.Match(@"MIG\d{4}"));
        Assert.That(File.Exists(project.TestReport), Is.False);
        Assert.That(Directory.Exists(project.StateDirectory()), Is.False, "not even the input lists are written");

        var (published, publishOutput) = await project.PublishAsync(DevConnection(Unreachable), "-p:MigrationEnabled=false", "-p:MigrationBaseline=", "-v:d");

        Assert.That(published, Is.EqualTo(0), publishOutput);
        Assert.That(publishOutput, Does.Not.Contain("Task \"MigrationTool\""), "no staging gate and no package");
        Assert.That(Directory.Exists(Path.Combine(project.PublishDirectory, "release")), Is.False);
        Assert.That(File.Exists(Path.Combine(project.PublishDirectory, "migrate.dll")), Is.False);
    }

    [Test]
    public async Task With_MigrationDeployOnBuild_false_the_build_checks_but_deploys_and_tests_nothing_and_publish_still_packages()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();
        var broken = project.Write("Migrations/V9__unterminated.sql", "SELECT 'never closed;\n");

        var (refused, refusedOutput) = await project.BuildAsync(DevConnection(dev), "-p:MigrationDeployOnBuild=false");
        Assert.That(refused, Is.Not.EqualTo(0), refusedOutput);
        Assert.That(refusedOutput, Does.Contain($"{broken}(1,8): error MIG2003: unterminated quoted string"), "the offline check still runs");

        project.Delete("Migrations/V9__unterminated.sql");
        var (built, buildOutput) = await project.BuildAsync(DevConnection(dev), "-p:MigrationDeployOnBuild=false");

        Assert.That(built, Is.EqualTo(0), buildOutput);
        Assert.That(buildOutput, Does.Not.Contain("applying"));
        Assert.That(buildOutput, Does.Not.Contain("test(s) passed"));
        Assert.That(File.Exists(project.TestReport), Is.False);
        var history = await PostgresServer.QueryAsync(dev, "SELECT to_regclass('migrationtasks.history') IS NULL");
        Assert.That(history[0][0], Is.EqualTo("t"), "the dev database is untouched");

        var (published, publishOutput) = await project.PublishAsync(DevConnection(dev), "-p:MigrationDeployOnBuild=false", "-p:MigrationBaseline=");

        Assert.That(published, Is.EqualTo(0), publishOutput);
        Assert.That(File.Exists(Path.Combine(project.PublishDirectory, "release", "manifest.json")), Is.True, publishOutput);
        Assert.That(File.Exists(Path.Combine(project.PublishDirectory, "migrate.dll")), Is.True);
        Assert.That((await PostgresServer.QueryAsync(dev, "SELECT to_regclass('migrationtasks.history') IS NULL"))[0][0], Is.EqualTo("t"));
    }

    [Test]
    public async Task Pointing_the_dev_variable_at_another_database_deploys_again_while_the_same_target_stays_a_no_op()
    {
        const string password = "Pa55-for-the-stamp-test";
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var first = await PostgresServer.CreateDatabaseAsync();
        var second = await PostgresServer.CreateDatabaseAsync();
        var (built, builtOutput) = await project.BuildAsync(DevConnection(first));
        Assert.That(built, Is.EqualTo(0), builtOutput);
        Assert.That(builtOutput, Does.Contain("applied 7 migration(s)"));

        // The same server, database and user with another password and timeout: the same target.
        var sameTarget = new NpgsqlConnectionStringBuilder(first) { Password = password, Timeout = 20 }.ConnectionString;
        var (same, sameOutput) = await project.BuildAsync(DevConnection(sameTarget), "-v:d");

        Assert.That(same, Is.EqualTo(0), sameOutput);
        Assert.That(sameOutput, Does.Contain("Skipping target \"_MigrationDeployDev\" because all output files are up-to-date"));
        Assert.That(sameOutput, Does.Contain("Skipping target \"_MigrationTest\" because all output files are up-to-date"));
        Assert.That(sameOutput, Does.Not.Contain("Task \"MigrationTool\""));
        var stamp = File.ReadAllText(Path.Combine(project.StateDirectory(), "dev-target.txt"));
        Assert.That(stamp, Does.StartWith("dev target: sha256:"));
        var database = new NpgsqlConnectionStringBuilder(first).Database!;
        Assert.That(stamp, Does.Not.Contain(password).And.Not.Contain(database).And.Not.Contain("127.0.0.1"), "only a hash of the target is kept");

        var (moved, movedOutput) = await project.BuildAsync(DevConnection(second), "-v:d");

        Assert.That(moved, Is.EqualTo(0), movedOutput);
        Assert.That(movedOutput, Does.Not.Contain("Checked "), "nothing else changed: no check step");
        Assert.That(movedOutput, Does.Contain("applied 7 migration(s)"));
        Assert.That(movedOutput, Does.Contain("3 test(s) passed, 0 failed"));
        Assert.That(await PostgresServer.QueryAsync(second, "SELECT count(*) FROM migrationtasks.history"), Has.One.Items.EqualTo(new[] { "7" }));
        Assert.That(movedOutput, Does.Not.Contain(password));
    }

    [Test]
    public async Task MigrationForceDeployDev_true_deploys_and_tests_again_when_nothing_changed()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();
        var (built, builtOutput) = await project.BuildAsync(DevConnection(dev));
        Assert.That(built, Is.EqualTo(0), builtOutput);

        var (forced, forcedOutput) = await project.BuildAsync(DevConnection(dev), "-p:MigrationForceDeployDev=true", "-v:d");

        Assert.That(forced, Is.EqualTo(0), forcedOutput);
        Assert.That(forcedOutput, Does.Not.Contain("Checked "), "no check step: the dev deploy checks the migrations itself");
        Assert.That(forcedOutput, Does.Contain("up to date, no migration to apply"));
        Assert.That(forcedOutput, Does.Contain("3 test(s) passed, 0 failed"));
        Assert.That(forcedOutput, Does.Contain("3 of 3 tests ran: every test was asked for"), "no earlier pass counts on a database changed where no input shows it");

        var (again, againOutput) = await project.BuildAsync(DevConnection(dev), "-v:d");
        Assert.That(again, Is.EqualTo(0), againOutput);
        Assert.That(againOutput, Does.Not.Contain("Task \"MigrationTool\""), "without the switch the next build is a no-op again");
    }

    [Test]
    public async Task Clean_removes_the_release_package_the_stamps_and_the_test_report_and_a_build_between_keeps_them()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();
        var (published, publishOutput) = await project.PublishAsync(DevConnection(dev), "-p:MigrationBaseline=");
        Assert.That(published, Is.EqualTo(0), publishOutput);
        var manifest = Path.Combine(project.PublishDirectory, "release", "manifest.json");
        var runner = Path.Combine(project.PublishDirectory, "migrate.dll");
        var testReport = Path.Combine(project.Directory, "bin", "Release", "net8.0", "migration-tests.xml");
        Assert.That(new[] { manifest, runner, testReport }.Where(File.Exists), Has.Exactly(3).Items, publishOutput);

        // A later build of the same configuration must not take the release package for stale output.
        var (built, builtOutput) = await project.BuildAsync(DevConnection(dev), "-c", "Release");
        Assert.That(built, Is.EqualTo(0), builtOutput);
        Assert.That(new[] { manifest, runner, testReport }.Where(File.Exists), Has.Exactly(3).Items);
        var recorded = File.ReadAllLines(Path.Combine(project.Directory, "obj", "Release", "net8.0", project.Name + ".csproj.FileListAbsolute.txt"));
        Assert.That(recorded, Does.Contain(manifest).And.Contain(runner).And.Contain(testReport), "IncrementalClean knows them");

        var (cleaned, cleanOutput) = await project.CleanAsync(null, "-c", "Release");

        Assert.That(cleaned, Is.EqualTo(0), cleanOutput);
        Assert.That(Directory.Exists(Path.Combine(project.PublishDirectory, "release")), Is.False, cleanOutput);
        Assert.That(Directory.Exists(project.PublishDirectory) ? Directory.EnumerateFiles(project.PublishDirectory, "*", SearchOption.AllDirectories) : [], Is.Empty);
        Assert.That(File.Exists(testReport), Is.False);
        Assert.That(Directory.Exists(project.StateDirectory("Release")), Is.False);
    }

    [Test]
    public async Task Clean_right_after_a_publish_removes_its_release_package()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();
        var (published, publishOutput) = await project.PublishAsync(DevConnection(dev), "-p:MigrationBaseline=");
        Assert.That(published, Is.EqualTo(0), publishOutput);

        var (cleaned, cleanOutput) = await project.CleanAsync(null, "-c", "Release");

        Assert.That(cleaned, Is.EqualTo(0), cleanOutput);
        Assert.That(Directory.EnumerateFiles(project.PublishDirectory, "*", SearchOption.AllDirectories), Is.Empty, cleanOutput);
    }
}
