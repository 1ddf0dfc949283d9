using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Testing;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The SQL Server target database against a real server: apply and history, rollback, the @@TRANCOUNT rule, the
/// deploy lock, tests/checks/verification, the schema snapshot. Ignored (reason printed) where no server can be had.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerDatabaseTests
{
    private const string Shop = """
        CREATE TABLE dbo.customer (id int NOT NULL CONSTRAINT pk_customer PRIMARY KEY, name nvarchar(100) NOT NULL, email nvarchar(200) NULL);
        INSERT INTO dbo.customer VALUES (1, N'Ada', N'ada@example.com'), (2, N'Bob', NULL), (3, N'Cy', N'cy@example.com');
        GO
        CREATE VIEW dbo.customer_names AS SELECT name FROM dbo.customer;
        """;

    [OneTimeSetUp]
    public Task Server() => SqlServerTestServer.RequireAsync();

    [Test]
    public async Task Migrations_apply_batch_by_batch_in_order_with_one_history_row_each()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        workspace.Write("V1__customer.sql", Shop);
        workspace.Write("V2__tier.sql", "ALTER TABLE dbo.customer ADD tier nvarchar(20) NOT NULL CONSTRAINT df_customer_tier DEFAULT N'basic';");

        var problems = await workspace.DeployAsync();

        Assert.That(problems, Is.Empty, workspace.Output);
        var history = await workspace.QueryAsync("SELECT version, script, outcome, statements_applied, statements_total FROM migrationtasks.history ORDER BY id");
        Assert.That(history.Select(r => string.Join('|', r)), Is.EqualTo(new[] { "1|V1__customer.sql|success|2|2", "2|V2__tier.sql|success|1|1" }));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM dbo.customer_names"), Is.EqualTo("3"));

        await using var database = await workspace.ConnectAsync();
        var entries = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.That(entries.Select(e => e.Outcome), Is.All.EqualTo(HistoryOutcome.Success));
        var schema = await database.ReadSchemaAsync(CancellationToken.None);
        Assert.That(schema.Objects.Select(o => $"{o.Kind} {o.Name}"), Does.Contain("table dbo.customer").And.Contain("view dbo.customer_names")
            .And.Contain("column dbo.customer.tier").And.Contain("constraint dbo.customer.pk_customer"));
        Assert.That(schema.Objects, Has.None.Matches<MigrationTasks.Schema.SchemaObject>(o => o.Name.StartsWith("migrationtasks", StringComparison.Ordinal)));
        Assert.That(schema.Objects.Single(o => o.Name == "dbo.customer.tier").Definition, Does.Contain("nvarchar(20) NOT NULL").And.Contain("DEFAULT (N'basic')"));
    }

    [Test]
    public async Task A_failing_migration_is_rolled_back_whole_and_recorded_as_failed_at_its_line()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        workspace.Write("V1__customer.sql", Shop);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        await using (var before = await workspace.ConnectAsync())
        {
            var hash = (await before.ReadSchemaAsync(CancellationToken.None)).Hash;
            workspace.Write("V2__broken.sql", "CREATE TABLE dbo.orders (id int NOT NULL);\nGO\nUPDATE dbo.customer SET name = N'x';\nINSERT INTO dbo.customer VALUES (1, N'dup', NULL);");

            var problems = await workspace.DeployAsync();

            Assert.That(problems, Has.Count.EqualTo(1), workspace.Output);
            Assert.That(problems[0].Line, Is.EqualTo(4), problems[0].ToString());
            Assert.That(problems[0].Message, Does.Contain("2627").Or.Contain("PRIMARY KEY"));
            Assert.That((await before.ReadSchemaAsync(CancellationToken.None)).Hash, Is.EqualTo(hash), "dbo.orders is gone with the rollback");
        }

        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM dbo.customer WHERE name = N'x'"), Is.EqualTo("0"));
        Assert.That(await workspace.QueryAsync("SELECT script, outcome FROM migrationtasks.history ORDER BY id"),
            Is.EqualTo(new[] { new[] { "V1__customer.sql", "success" }, new[] { "V2__broken.sql", "failed" } }));
    }

    [Test]
    public async Task A_script_that_commits_the_migrations_transaction_is_stopped_with_the_rule_named()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        workspace.Write("V1__own_commit.sql", "CREATE TABLE dbo.a (id int);\nCOMMIT;\nGO\nCREATE TABLE dbo.b (id int);");

        var problems = await workspace.DeployAsync();

        Assert.That(problems, Has.Count.EqualTo(1), workspace.Output);
        Assert.That(problems[0].Message, Does.Contain("ended the migration's transaction"));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM sys.tables WHERE name = N'b'"), Is.EqualTo("0"), "nothing after the COMMIT ran");
    }

    [Test]
    public async Task A_second_deploy_waits_for_the_lock_and_times_out_with_MIG7002_naming_the_holder()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var first = await workspace.ConnectAsync();
        await using var held = await first.AcquireDeployLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        await using var second = await workspace.ConnectAsync();

        var error = Assert.ThrowsAsync<DiagnosticException>(async () => await second.AcquireDeployLockAsync(TimeSpan.FromSeconds(1), CancellationToken.None))!;

        Assert.That(error.Diagnostics[0].Code, Is.EqualTo("MIG7002"));
        Assert.That(error.Diagnostics[0].Message, Does.Contain("MigrationTasks deploy lock").Or.Contain("VIEW SERVER STATE"));

        await held.DisposeAsync();
        await using var now = await second.AcquireDeployLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
    }

    [Test]
    public async Task Tests_checks_and_verification_pass_on_zero_rows_and_fail_with_the_rows_found()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        workspace.Write("V1__customer.sql", Shop);
        Assert.That(await workspace.DeployAsync(), Is.Empty, workspace.Output);
        var passing = workspace.Write("checks/names_present.sql", "SELECT id FROM dbo.customer WHERE name = N'';");
        var failing = workspace.Write("checks/emails_present.sql", "DELETE FROM dbo.customer WHERE id = 3;\nGO\nSELECT id, name FROM dbo.customer WHERE email IS NULL;");
        var output = new StringWriter();

        await using var database = await workspace.ConnectAsync();
        var results = await new DatabaseTestRunner(workspace.Engine, new Reporter(output), QueryKind.ProductionCheck).RunAsync(database, [passing, failing], CancellationToken.None);

        Assert.That(results.Single(r => r.Path == passing).Passed, Is.True, output.ToString());
        var failed = results.Single(r => r.Path == failing);
        Assert.That(failed.Passed, Is.False);
        Assert.That(failed.Failure!.Code, Is.EqualTo("MIG6011"));
        Assert.That(failed.Run!.RowCount, Is.EqualTo(1));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM dbo.customer"), Is.EqualTo("3"), "a check's changes are rolled back");
    }

    [Test]
    public async Task A_rehearsal_applies_and_keeps_nothing()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        var path = workspace.Write("V1__customer.sql", Shop);
        var step = new MigrationStep(Migrations.MigrationFile.Load(path), workspace.Engine.Prepare(path, Shop));

        await using (var database = await workspace.ConnectAsync())
        await using (var rehearsal = await database.BeginRehearsalAsync(CancellationToken.None))
        {
            await rehearsal.ApplyAsync(step, CancellationToken.None);
        }

        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM sys.tables WHERE name = N'customer'"), Is.EqualTo("0"));
    }
}
