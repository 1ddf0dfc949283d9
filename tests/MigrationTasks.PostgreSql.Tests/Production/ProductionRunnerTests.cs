using MigrationTasks.PostgreSql.Tests.Suites;
using MigrationTasks.Release;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.PostgreSql.Tests.Production;

/// <summary>
/// The production path on PostgreSQL where it is PostgreSQL's own: a backup folder pg_dump cannot write, and a
/// password the throwaway cluster accepts and ignores. The path every engine takes (deploy, re-run, refusals, the
/// ways back) is in the shared ReleaseRunnerSuite and RecoverySuite (PostgresReleaseRunnerSuite, PostgresRecoverySuite).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class ProductionRunnerTests
{
    private const string Shop = """
        CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text);
        INSERT INTO customer VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bob', NULL), (3, 'Cy', 'cy@example.com');
        """;

    [Test]
    public async Task A_backup_folder_that_cannot_be_written_refuses_before_migrating()
    {
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance);
        var file = production.Write("not-a-folder.txt", "a file where the backup folder should be");
        var release = production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]);

        var (report, output) = await production.DeployAsync(release, backupDirectory: Path.Combine(file, "backups"));

        Assert.That(report.Exit, Is.EqualTo(RunnerExitCode.Refused), output);
        Assert.That(output, Does.Contain("MIG6001"));
        Assert.That(await production.QueryAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'customer'"), Has.One.Items.EqualTo(new[] { "0" }));
    }

    [Test]
    public async Task No_password_reaches_the_output_the_report_or_the_history()
    {
        // The throwaway cluster trusts local logins, so a password is accepted and ignored: enough to prove it never leaks.
        var production = await ProductionDatabase.CreateAsync(PostgresEngineUnderTest.Instance, await PostgresServer.CreateDatabaseAsync() + ";Password=Sup3r-Secret-Pw");
        var (_, deployed) = await production.DeployAsync(production.Release("shop", "1.0.0", migrations: [production.Write("V1__customer.sql", Shop)]));
        var baseline = await production.BaselineAsync();
        var (_, failed) = await production.DeployAsync(production.Release("shop", "1.1.0", baseline, migrations: [production.Write("next/V2__broken.sql", "SELECT 1/0;")]));
        var output = deployed + failed;

        Assert.That(output, Does.Not.Contain("Sup3r-Secret-Pw"));
        foreach (var file in Directory.EnumerateFiles(production.ReportDirectory))
        {
            Assert.That(File.ReadAllText(file), Does.Not.Contain("Sup3r-Secret-Pw"), file);
        }

        var history = await production.QueryAsync("SELECT h::text FROM migrationtasks.history h");
        Assert.That(history.SelectMany(r => r), Has.None.Contains("Sup3r-Secret-Pw"));
    }
}
