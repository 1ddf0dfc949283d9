using MigrationTasks.PostgreSql.Tests;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// Issue 12's inner loop through real `dotnet build` runs of the PgShop sample against the packed package: the dev
/// deploy proves the chain from the cached state before the newest migration, moves the throwaway dev database
/// forward (or resets it), decides up-to-dateness by content, and still proves from scratch when asked (CI, publish).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class InnerLoopTests
{
    [Test]
    public async Task Adding_then_editing_the_newest_migration_costs_one_migration_on_the_cached_state_and_full_validation_still_proves_from_scratch()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var (first, firstOutput) = await project.BuildAsync();
        Assert.That(first, Is.EqualTo(0), firstOutput);

        project.Write("Migrations/V6__product_stock.sql", "ALTER TABLE product ADD COLUMN stock integer NOT NULL DEFAULT 0;");
        var (added, addedOutput) = await project.BuildAsync();
        Assert.That(added, Is.EqualTo(0), addedOutput);
        // PgShop: V1–V5, V5_1 and a repeatable. The cached state held V1–V5; it takes V5_1, and V6 with the
        // repeatable are rehearsed on it; dev only takes what it lacks.
        Assert.That(addedOutput, Does.Contain("from the cached state after 5 migration(s): 1 applied to the cached state, 2 newest rehearsed on it"));
        Assert.That(addedOutput, Does.Contain("/dev: applying V6__product_stock.sql").And.Contain("/dev: applied 1 migration(s)"));
        Assert.That(addedOutput, Does.Contain("3 test(s) passed, 0 failed"));

        var edited = project.Write("Migrations/V6__product_stock.sql", "ALTER TABLE product ADD COLUMN stock integer NOT NULL DEFAULT 10;");
        var (again, againOutput) = await project.BuildAsync();
        Assert.That(again, Is.EqualTo(0), againOutput);
        Assert.That(againOutput, Does.Contain("history is not a prefix of the project's (MIG7001 at V6__product_stock.sql); it is reset from the proven state"));
        Assert.That(againOutput, Does.Contain("from the cached state after 6 migration(s): 0 applied to the cached state, 2 newest rehearsed on it"));
        Assert.That(againOutput, Does.Not.Contain("error"), "a throwaway dev database is reset, not a failure");

        var (full, fullOutput) = await project.BuildAsync(null, "-p:MigrationFullValidation=true");
        Assert.That(full, Is.EqualTo(0), fullOutput);
        Assert.That(fullOutput, Does.Contain("from an empty database (full validation): 6 applied to the cached state"), "the stamp of a cached proof does not stand for a full one");
        Assert.That(fullOutput, Does.Contain("/dev: up to date, no migration to apply"));

        var (fullAgain, fullAgainOutput) = await project.BuildAsync(null, "-p:MigrationFullValidation=true", "-v:d");
        Assert.That(fullAgain, Is.EqualTo(0), fullAgainOutput);
        Assert.That(fullAgainOutput, Does.Not.Contain("Task \"MigrationTool\""), "a full proof of the same inputs stands");
        Assert.That(File.ReadAllText(edited), Does.Contain("DEFAULT 10"));
    }

    [Test]
    public async Task Publish_proves_every_migration_from_an_empty_database_whatever_the_cache_holds()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var (built, builtOutput) = await project.BuildAsync(null, "-c", "Release");
        Assert.That(built, Is.EqualTo(0), builtOutput);
        Assert.That(builtOutput, Does.Not.Contain("(full validation)"));

        var (published, publishOutput) = await project.PublishAsync(null, "-p:MigrationBaseline=");

        Assert.That(published, Is.EqualTo(0), publishOutput);
        Assert.That(publishOutput, Does.Contain("Shadow: every migration proven from an empty database (full validation)"),
            "publish does not rest on the cached state the build before it left");
    }

    [Test]
    public async Task Touching_every_file_without_changing_it_starts_no_process_and_a_changed_byte_does()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var (first, firstOutput) = await project.BuildAsync();
        Assert.That(first, Is.EqualTo(0), firstOutput);

        // As `git checkout` of another branch and back does: new timestamps, the same bytes.
        var later = DateTime.UtcNow.AddMinutes(1);
        foreach (var file in Directory.EnumerateFiles(project.Directory, "*.sql", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, later);
        }

        var (touched, touchedOutput) = await project.BuildAsync(null, "-v:d");
        Assert.That(touched, Is.EqualTo(0), touchedOutput);
        Assert.That(touchedOutput, Does.Not.Contain("Task \"MigrationTool\""), "no CLI process, so no migration work");

        var test = project.PathOf("Tests/every_customer_has_stats.sql");
        File.AppendAllText(test, "\n-- one more byte\n");
        var (changed, changedOutput) = await project.BuildAsync(null, "-v:d");
        Assert.That(changed, Is.EqualTo(0), changedOutput);
        Assert.That(changedOutput, Does.Contain("Skipping target \"_MigrationDeployDev\" because all output files are up-to-date"), "only a test changed");
        Assert.That(changedOutput, Does.Contain("test(s) passed, 0 failed"));
    }

    [Test]
    public async Task A_new_migration_and_its_tests_run_in_one_process_and_a_failing_test_does_not_deploy_again()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var (first, firstOutput) = await project.BuildAsync();
        Assert.That(first, Is.EqualTo(0), firstOutput);

        project.Write("Migrations/V6__product_stock.sql", "ALTER TABLE product ADD COLUMN stock integer NOT NULL DEFAULT 0;");
        var test = project.Write("Tests/stock_is_never_zero.sql", "SELECT id FROM product WHERE stock = 0;");
        var (failed, failedOutput) = await project.BuildAsync(null, "-v:d");

        Assert.That(failed, Is.Not.EqualTo(0));
        Assert.That(failedOutput, Does.Contain($"{test}(1,1): error MIG3001: test failed"));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(failedOutput, "Task \"MigrationTool\"").Count, Is.EqualTo(1),
            "the deploy and the tests ran in one process: " + failedOutput);

        project.Write("Tests/stock_is_never_zero.sql", "SELECT id FROM product WHERE stock < 0;");
        var (fixedBuild, fixedOutput) = await project.BuildAsync(null, "-v:d");

        Assert.That(fixedBuild, Is.EqualTo(0), fixedOutput);
        Assert.That(fixedOutput, Does.Contain("Skipping target \"_MigrationDeployDev\" because all output files are up-to-date"),
            "the deploy had succeeded: only the tests run again");
        Assert.That(fixedOutput, Does.Contain("1 of 4 tests ran"));
    }

    [Test]
    public async Task A_shared_dev_database_with_an_edited_applied_migration_fails_MIG7001_before_any_shadow_work()
    {
        var project = await DatabaseProject.FromSampleAsync("PgShop");
        var dev = await PostgresServer.CreateDatabaseAsync();
        var connection = new Dictionary<string, string?> { ["MIGRATIONTASKS_DEV_CONNECTION"] = dev };
        var (first, firstOutput) = await project.BuildAsync(connection);
        Assert.That(first, Is.EqualTo(0), firstOutput);

        var edited = project.PathOf("Migrations/V4__seed_data.sql");
        File.AppendAllText(edited, "\n-- edited after it was applied\n");
        var (exitCode, output) = await project.BuildAsync(connection);

        Assert.That(exitCode, Is.Not.EqualTo(0));
        Assert.That(output, Does.Contain($"{edited}(1,1): error MIG7001: V4__seed_data.sql was applied on"));
        Assert.That(output, Does.Not.Contain("Shadow:").And.Not.Contain("applying"), "nothing ran before the refusal");
    }
}
