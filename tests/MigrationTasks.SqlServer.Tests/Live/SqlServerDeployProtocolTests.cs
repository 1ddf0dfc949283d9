using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.SqlServer.Live;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The deploy protocol on a real SQL Server, as PostgreSQL's: the history upgrade of an old table, the claim that
/// makes a double apply impossible, the release in one transaction with its Verify/ queries, the deploys table,
/// lock timeouts, read-only databases, deploy sessions and their orphans. Ignored (reason printed) where no server
/// can be had; the offline halves are in SqlServerHistoryOfflineTests. Some read other sessions (sys.dm_exec_requests)
/// or end them (KILL): the server's login needs VIEW SERVER STATE and ALTER ANY CONNECTION, as sa has.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerDeployProtocolTests
{
    private const string Shop = """
        CREATE TABLE dbo.customer (id int NOT NULL CONSTRAINT pk_customer PRIMARY KEY, name nvarchar(100) NOT NULL, email nvarchar(200) NULL);
        INSERT INTO dbo.customer VALUES (1, N'Ada', N'ada@example.com'), (2, N'Bob', NULL), (3, N'Cy', N'cy@example.com');
        CREATE TABLE dbo.ledger (entry nvarchar(100) NOT NULL);
        """;

    /// <summary>The history table as MigrationTasks made it before deploy_id and supersedes, its last two columns.</summary>
    private static readonly string OldHistory = string.Join('\n', SqlServerHistory.TableSql.Split('\n').Where(line => !line.Contains("deploy_id") && !line.Contains("supersedes")))
        .Replace("package_version nvarchar(100) NULL,", "package_version nvarchar(100) NULL", StringComparison.Ordinal);

    /// <summary>The deploy attempt a test runs as, and a second, concurrent one.</summary>
    private const string Id = "20260101T000000000Z-aaaaaa";
    private const string Other = "20260101T000000001Z-bbbbbb";

    /// <summary>History rows committed so far, the release's uncommitted claims passed over.</summary>
    private const string Committed = "SELECT count(*) FROM migrationtasks.history WITH (READCOMMITTEDLOCK, READPAST)";

    [OneTimeSetUp]
    public Task Server() => SqlServerTestServer.RequireAsync();

    [Test]
    public async Task An_old_history_table_is_read_then_upgraded_with_supersedes_backfilled_and_the_unique_index()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await workspace.QueryAsync("CREATE SCHEMA migrationtasks");
        await workspace.QueryAsync(OldHistory + """
            INSERT INTO migrationtasks.history (version, description, script, kind, checksum_sha256, statements_applied, statements_total,
                applied_statements_sha256, outcome, started_at, finished_at, applied_by_host)
            VALUES (N'1', N'customer', N'V1__customer.sql', N'versioned', N'a', 1, 1, N'a', N'success', SYSDATETIMEOFFSET(), SYSDATETIMEOFFSET(), N'h'),
                   (N'2', N'tier', N'V2__tier.sql', N'versioned', N'b', 0, 1, N'b', N'failed', SYSDATETIMEOFFSET(), SYSDATETIMEOFFSET(), N'h'),
                   (N'2', N'tier', N'V2__tier.sql', N'versioned', N'b', 1, 1, N'b', N'success', SYSDATETIMEOFFSET(), SYSDATETIMEOFFSET(), N'h'),
                   (NULL, N'names', N'R__names.sql', N'repeatable', N'c', 1, 1, N'c', N'success', SYSDATETIMEOFFSET(), SYSDATETIMEOFFSET(), N'h'),
                   (NULL, N'names', N'R__names.sql', N'repeatable', N'd', 1, 1, N'd', N'success', SYSDATETIMEOFFSET(), SYSDATETIMEOFFSET(), N'h');
            SELECT 1
            """);
        await using var database = await workspace.ConnectAsync();

        var before = await database.ReadHistoryAsync(CancellationToken.None);
        await database.ApplyAsync(Step(workspace, "V3__ledger.sql", "CREATE TABLE dbo.ledger (entry nvarchar(100) NOT NULL);"), Deploy(Id), CancellationToken.None);

        Assert.That(before.Select(e => e.DeployId), Has.Count.EqualTo(5).And.All.Null, "an old table is read without deploy_id");
        Assert.That((await workspace.QueryAsync("SELECT script, outcome, CASE WHEN supersedes = 0 THEN N'0' ELSE N'previous' END, deploy_id FROM migrationtasks.history ORDER BY id")).Select(r => string.Join('|', r)),
            Is.EqualTo(new[]
            {
                "V1__customer.sql|success|0|", "V2__tier.sql|failed|0|", "V2__tier.sql|success|0|", "R__names.sql|success|0|", "R__names.sql|success|previous|",
                "V3__ledger.sql|success|0|20260101T000000000Z-aaaaaa",
            }));
        Assert.That(
            await workspace.ScalarAsync("""
                SELECT CASE WHEN (SELECT supersedes FROM migrationtasks.history WHERE id = (SELECT MAX(id) FROM migrationtasks.history WHERE script = N'R__names.sql'))
                               = (SELECT MIN(id) FROM migrationtasks.history WHERE script = N'R__names.sql') THEN 1 ELSE 0 END
                """),
            Is.EqualTo("1"),
            "the second success of a repeatable script supersedes its first");
        Assert.That(await workspace.QueryAsync("SELECT is_unique, has_filter, filter_definition FROM sys.indexes WHERE name = N'history_applied_once' AND object_id = OBJECT_ID(N'migrationtasks.history')"),
            Has.One.Items.EqualTo(new[] { "True", "True", "([outcome]=N'success')" }));
        var after = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.That(after[^1].DeployId, Is.EqualTo(Id));
    }

    [Test]
    public async Task The_live_tables_are_stored_as_the_model_scripts_spell_them_so_DacFx_plans_no_change_to_them()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        await database.RecordDeployAttemptAsync(Attempt("20260101T000000000Z-bbbbbb", DeployState.Started), CancellationToken.None);

        var stored = await workspace.QueryAsync("""
            SELECT name, definition FROM sys.check_constraints WHERE schema_id = SCHEMA_ID(N'migrationtasks')
            UNION ALL SELECT name, definition FROM sys.default_constraints WHERE schema_id = SCHEMA_ID(N'migrationtasks')
            UNION ALL SELECT i.name, i.filter_definition FROM sys.indexes AS i JOIN sys.tables AS t ON t.object_id = i.object_id
                      WHERE t.schema_id = SCHEMA_ID(N'migrationtasks') AND i.has_filter = 1
            ORDER BY 1
            """);

        var model = string.Join("\n", SqlServerHistory.ModelScripts);
        Assert.That(stored.Select(r => r[0]), Is.EqualTo(new[]
        {
            "ck_migrationtasks_deploys_state", "ck_migrationtasks_history_outcome", "df_migrationtasks_deploys_user", "df_migrationtasks_history_supersedes",
            "df_migrationtasks_history_user", "history_applied_once",
        }));
        foreach (var row in stored)
        {
            // A CHECK's definition is its expression in parentheses; a DEFAULT's and a filter's are what the model writes.
            Assert.That(model, Does.Contain(row[0]!.StartsWith("ck_", StringComparison.Ordinal) ? row[1]![1..^1] : row[1]), row[0]);
        }
    }

    [Test]
    public async Task A_claim_racing_another_deploys_uncommitted_claim_waits_then_fails_with_DeployLockLost_and_applies_nothing()
    {
        await using var deploys = await TwoDeploys.CreateAsync();

        DeployLockLostException lost;
        await using (var release = await deploys.First.BeginReleaseTransactionAsync(Deploy(Id), CancellationToken.None))
        {
            await release.ApplyAsync(deploys.V2, CancellationToken.None);
            var racing = await deploys.SecondWaitingAsync();

            await release.CommitAsync(Attempt(Id, DeployState.Verified), CancellationToken.None);
            lost = Assert.ThrowsAsync<DeployLockLostException>(async () => await racing)!;
        }

        Assert.That(lost.Message, Does.Contain("V2__ledger.sql").And.Contain("history_applied_once"));
        await deploys.AssertAppliedOnceByAsync(Id);
    }

    [Test]
    public async Task A_claim_waiting_on_a_deploy_that_rolls_back_applies_the_migration_itself()
    {
        await using var deploys = await TwoDeploys.CreateAsync();

        Task racing;
        await using (var release = await deploys.First.BeginReleaseTransactionAsync(Deploy(Id), CancellationToken.None))
        {
            await release.ApplyAsync(deploys.V2, CancellationToken.None);
            racing = await deploys.SecondWaitingAsync();
        }

        await racing;
        await deploys.AssertAppliedOnceByAsync(Other);
    }

    [Test]
    public async Task A_claim_that_waits_past_the_lock_timeout_on_another_deploys_claim_stops_that_deploy()
    {
        await using var deploys = await TwoDeploys.CreateAsync();
        await using var release = await deploys.First.BeginReleaseTransactionAsync(Deploy(Id), CancellationToken.None);
        await release.ApplyAsync(deploys.V2, CancellationToken.None);

        var lost = Assert.ThrowsAsync<DeployLockLostException>(async () =>
            await deploys.Second.ApplyAsync(deploys.V2, Deploy(Other, TimeSpan.FromMilliseconds(300)), CancellationToken.None))!;

        Assert.That(lost.Message, Does.Contain("is applying V2__ledger.sql at this moment"));
        await release.CommitAsync(Attempt(Id, DeployState.Verified), CancellationToken.None);
        await deploys.AssertAppliedOnceByAsync(Id);
    }

    [Test]
    public async Task The_release_transaction_commits_its_migrations_with_the_verified_attempt()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        await using (var release = await StartedReleaseAsync(database))
        {
            await release.ApplyAsync(Step(workspace, "V1__shop.sql", Shop), CancellationToken.None);
            await release.ApplyAsync(Step(workspace, "V2__tier.sql", "ALTER TABLE dbo.customer ADD tier nvarchar(20) NULL;"), CancellationToken.None);
            var schema = await release.ReadSchemaAsync(CancellationToken.None);
            var run = await release.RunQueryAsync(Query(workspace, "verify/tiers.sql", "SELECT id FROM dbo.customer WHERE tier IS NOT NULL;"), CancellationToken.None);

            Assert.That(schema.Objects.Select(o => o.Name), Does.Contain("dbo.customer.tier"), "the transaction sees its own migrations");
            Assert.That(run.Error, Is.Null);
            Assert.That(run.RowCount, Is.EqualTo(0));
            Assert.That(await workspace.ScalarAsync(Committed), Is.EqualTo("0"), "nothing is visible before the commit");

            await release.CommitAsync(Attempt(Id, DeployState.Verified), CancellationToken.None);
        }

        Assert.That((await workspace.QueryAsync("SELECT script, outcome, statements_applied, deploy_id FROM migrationtasks.history ORDER BY id")).Select(r => string.Join('|', r)),
            Is.EqualTo(new[] { $"V1__shop.sql|success|1|{Id}", $"V2__tier.sql|success|1|{Id}" }));
        Assert.That((await database.ReadDeployAttemptsAsync(CancellationToken.None)).Single().State, Is.EqualTo(DeployState.Verified));
        Assert.That(await workspace.ScalarAsync("SELECT COL_LENGTH(N'dbo.customer', N'tier')"), Is.Not.Null);
    }

    [Test]
    public async Task A_failing_verification_leaves_the_release_uncommitted_and_disposing_it_rolls_everything_back()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        await database.ApplyAsync(Step(workspace, "V1__shop.sql", Shop), ApplyContext.ForThisMachine(), CancellationToken.None);

        await using (var release = await database.BeginReleaseTransactionAsync(Deploy(Id), CancellationToken.None))
        {
            await release.ApplyAsync(Step(workspace, "V2__drop_bob.sql", "DELETE FROM dbo.customer WHERE email IS NULL;"), CancellationToken.None);
            var run = await release.RunQueryAsync(Query(workspace, "verify/three.sql", "SELECT count(*) FROM dbo.customer HAVING count(*) <> 3;"), CancellationToken.None);

            Assert.That(run.Error, Is.Null);
            Assert.That(run.RowCount, Is.EqualTo(1), "the verification failed: the runner does not commit");
        }

        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM dbo.customer"), Is.EqualTo("3"));
        Assert.That(await workspace.QueryAsync("SELECT script FROM migrationtasks.history ORDER BY id"), Is.EqualTo(new[] { new[] { "V1__shop.sql" } }));
        Assert.That(await database.ReadDeployAttemptsAsync(CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task A_verify_error_inside_the_release_comes_back_as_the_runs_error_and_nothing_after_it_runs_or_commits()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();

        await using (var release = await database.BeginReleaseTransactionAsync(Deploy(Id), CancellationToken.None))
        {
            await release.ApplyAsync(Step(workspace, "V1__shop.sql", Shop), CancellationToken.None);

            var failed = await release.RunQueryAsync(Query(workspace, "verify/divide.sql", "SELECT id FROM dbo.customer WHERE id / 0 = 1;"), CancellationToken.None);
            var next = await release.RunQueryAsync(Query(workspace, "verify/next.sql", "SELECT id FROM dbo.customer WHERE 1 = 0;"), CancellationToken.None);

            Assert.That(failed.Error, Is.Not.Null);
            Assert.That(failed.Error!.ErrorCode, Is.EqualTo("8134"), failed.Error.Message);
            Assert.That(next.Error!.Message, Does.StartWith("not run: the release's transaction was rolled back before this query").And.Contain("divide.sql"));
            Assert.ThrowsAsync<InvalidOperationException>(async () => await release.CommitAsync(Attempt(Id, DeployState.Verified), CancellationToken.None));
        }

        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM sys.tables WHERE name = N'customer'"), Is.EqualTo("0"));
    }

    [Test]
    public async Task A_verify_query_that_commits_cannot_commit_the_release_and_what_it_changed_is_undone()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        await using (var release = await StartedReleaseAsync(database))
        {
            await release.ApplyAsync(Step(workspace, "V1__shop.sql", Shop), CancellationToken.None);

            var committing = await release.RunQueryAsync(Query(workspace, "verify/commits.sql", "DELETE FROM dbo.customer;\nCOMMIT;\nGO\nDELETE FROM dbo.ledger;"), CancellationToken.None);
            Assert.That(committing.Error!.Message, Does.Contain("ended the transaction the query runs in"));
            Assert.That(await workspace.ScalarAsync(Committed), Is.EqualTo("0"), "nothing committed yet");

            var clean = await release.RunQueryAsync(Query(workspace, "verify/customers.sql", "SELECT id FROM dbo.customer WHERE name IS NULL;"), CancellationToken.None);
            Assert.That(clean.Error, Is.Null, "the release's transaction is still usable");
            await release.CommitAsync(Attempt(Id, DeployState.Verified), CancellationToken.None);
        }

        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM dbo.customer"), Is.EqualTo("3"), "the query's DELETE was undone with its savepoint");
    }

    [Test]
    public async Task What_a_migration_leaves_in_the_session_does_not_reach_the_next_one_or_the_history()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        await using (var release = await StartedReleaseAsync(database))
        {
            await release.ApplyAsync(Step(workspace, "V1__shop.sql", Shop + "\nCREATE USER nobody WITHOUT LOGIN;"), CancellationToken.None);
            // No rights on migrationtasks, and QUOTED_IDENTIFIER OFF, which a filtered index refuses writes under.
            await release.ApplyAsync(Step(workspace, "V2__as_nobody.sql", "EXECUTE AS USER = N'nobody';\nGO\nSET QUOTED_IDENTIFIER OFF;\nSET ROWCOUNT 1;"), CancellationToken.None);
            await release.ApplyAsync(Step(workspace, "V3__who.sql", "INSERT INTO dbo.ledger SELECT USER_NAME() + N' ' + CAST(SESSIONPROPERTY('QUOTED_IDENTIFIER') AS nvarchar(1)) FROM dbo.customer;"), CancellationToken.None);
            await release.CommitAsync(Attempt(Id, DeployState.Verified), CancellationToken.None);
        }

        Assert.That(await workspace.QueryAsync("SELECT DISTINCT entry FROM dbo.ledger"), Is.EqualTo(new[] { new[] { "dbo 1" } }));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM dbo.ledger"), Is.EqualTo("3"), "SET ROWCOUNT 1 did not reach V3");
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM migrationtasks.history WHERE outcome = N'success'"), Is.EqualTo("3"));
    }

    [Test]
    public async Task A_statement_waiting_past_the_lock_timeout_is_1222_and_a_lock_timeout_in_both_paths()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        await database.ApplyAsync(Step(workspace, "V1__shop.sql", Shop), ApplyContext.ForThisMachine(), CancellationToken.None);
        var v2 = Step(workspace, "V2__tier.sql", "ALTER TABLE dbo.customer ADD tier nvarchar(20) NULL;");
        var context = Deploy(Id, TimeSpan.FromMilliseconds(300));
        await using var reader = new SqlConnection(new SqlConnectionStringBuilder(workspace.ConnectionString) { Pooling = false }.ConnectionString);
        await reader.OpenAsync();
        await using var holding = (SqlTransaction)await reader.BeginTransactionAsync();
        await using (var hold = new SqlCommand("SELECT count(*) FROM dbo.customer WITH (TABLOCK, HOLDLOCK)", reader, holding))
        {
            await hold.ExecuteScalarAsync();
        }

        var alone = Assert.ThrowsAsync<ScriptFailedException>(async () => await database.ApplyAsync(v2, context, CancellationToken.None))!;
        ScriptFailedException inRelease;
        await using (var release = await database.BeginReleaseTransactionAsync(context, CancellationToken.None))
        {
            inRelease = Assert.ThrowsAsync<ScriptFailedException>(async () => await release.ApplyAsync(v2, CancellationToken.None))!;
        }

        Assert.That((alone.ErrorCode, alone.IsLockTimeout), Is.EqualTo(("1222", true)), alone.Message);
        Assert.That((inRelease.ErrorCode, inRelease.IsLockTimeout), Is.EqualTo(("1222", true)), inRelease.Message);
        Assert.That(await workspace.QueryAsync("SELECT script FROM migrationtasks.history ORDER BY id"), Is.EqualTo(new[] { new[] { "V1__shop.sql" } }),
            "a deploy records a failure in its attempt, not in the history");

        await holding.RollbackAsync();
        await database.ApplyAsync(v2, context, CancellationToken.None);
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM migrationtasks.history WHERE script = N'V2__tier.sql' AND outcome = N'success'"), Is.EqualTo("1"));
    }

    [Test]
    public async Task A_read_only_database_says_why_it_cannot_take_changes()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        var name = new SqlConnectionStringBuilder(workspace.ConnectionString).InitialCatalog;
        await using var database = await workspace.ConnectAsync();
        Assert.That(await database.WhyReadOnlyAsync(CancellationToken.None), Is.Null);

        await SqlServerTestServer.QueryAsync(Master(workspace), $"ALTER DATABASE {SqlServerConnections.QuoteName(name)} SET READ_ONLY WITH ROLLBACK IMMEDIATE; SELECT 1");
        await using var frozen = await workspace.ConnectAsync();

        Assert.That(await frozen.WhyReadOnlyAsync(CancellationToken.None), Does.Contain("READ_ONLY"));
    }

    [Test]
    public async Task Deploy_attempts_round_trip_through_the_deploys_table()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        Assert.That(await database.ReadDeployAttemptsAsync(CancellationToken.None), Is.Empty, "no table yet");
        var started = Attempt(Id, DeployState.Started) with { BackupId = "shop-1", BackupDirectory = "/backups/o'neil", Detail = "backed up; migrating" };
        var other = Attempt("20260101T000001000Z-bbbbbb", DeployState.Failed) with { StartedAt = started.StartedAt.AddSeconds(1) };

        await database.RecordDeployAttemptAsync(started, CancellationToken.None);
        await database.RecordDeployAttemptAsync(other, CancellationToken.None);
        var needsPerson = started.With(DeployState.NeedsPerson, "restoring failed: disk full");
        await database.RecordDeployAttemptAsync(needsPerson, CancellationToken.None);

        var attempts = await database.ReadDeployAttemptsAsync(CancellationToken.None);
        Assert.That(attempts, Has.Count.EqualTo(2));
        Assert.That(attempts[0], Is.EqualTo(needsPerson));
        Assert.That(attempts[1], Is.EqualTo(other));
        Assert.That(await workspace.ScalarAsync($"SELECT CASE WHEN runner_user = ORIGINAL_LOGIN() THEN 1 ELSE 0 END FROM migrationtasks.deploys WHERE id = N'{Id}'"), Is.EqualTo("1"));
        Assert.ThrowsAsync<SqlException>(async () => await workspace.QueryAsync("UPDATE migrationtasks.deploys SET state = N'deployed'"), "the CHECK lists the states");
    }

    [Test]
    public async Task A_deploys_migration_sessions_bear_its_name_and_a_later_run_ends_such_sessions_only()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        await using var database = await workspace.ConnectAsync();
        await database.ApplyAsync(Step(workspace, "V1__shop.sql", Shop + "\nINSERT INTO dbo.ledger VALUES (APP_NAME());"), Deploy(Id), CancellationToken.None);
        await using (var release = await database.BeginReleaseTransactionAsync(Deploy(Id), CancellationToken.None))
        {
            await release.ApplyAsync(Step(workspace, "V2__name.sql", "INSERT INTO dbo.ledger VALUES (APP_NAME());"), CancellationToken.None);
            await release.CommitAsync(Attempt(Id, DeployState.Verified), CancellationToken.None);
        }

        var name = $"MigrationTasks migrate {Id} ({Environment.MachineName})";
        Assert.That(await workspace.QueryAsync("SELECT entry FROM dbo.ledger"), Is.EqualTo(new[] { new[] { name }, new[] { name } }));

        await using var orphan = await OpenAsync(workspace, "MigrationTasks migrate 20251231T000000000Z-dead00 (gone)");
        await using var application = await OpenAsync(workspace, "shop-web");
        await using var deployLock = await database.AcquireDeployLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.That(await database.EndOrphanedDeploySessionsAsync(CancellationToken.None), Is.EqualTo(1));
        await using var orphanQuery = new SqlCommand("SELECT 1", orphan);
        await using var applicationQuery = new SqlCommand("SELECT 1", application);
        Assert.CatchAsync(async () => await orphanQuery.ExecuteScalarAsync(), "the orphan's session was killed");
        Assert.That(await applicationQuery.ExecuteScalarAsync(), Is.EqualTo(1), "the application's session is left alone");
        await deployLock.ProveHeldAsync(CancellationToken.None);
    }

    [Test]
    public async Task A_deploy_whose_lock_session_was_ended_stops_before_its_next_migration()
    {
        var workspace = await SqlServerWorkspace.CreateAsync();
        // A name of its own, so that only this test's lock session is ended (other tests hold locks in parallel).
        var application = "lost-lock-" + Guid.NewGuid().ToString("N")[..12];
        await using var database = await workspace.Engine.ConnectAsync(workspace.ConnectionString + $";Application Name={application}", CancellationToken.None);
        await using var deployLock = await database.AcquireDeployLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        await SqlServerTestServer.QueryAsync(Master(workspace), $"""
            DECLARE @kill nvarchar(100) = (SELECT TOP (1) N'KILL ' + CAST(session_id AS nvarchar(10)) FROM sys.dm_exec_sessions WHERE program_name LIKE N'{application} deploy lock (%');
            EXEC (@kill);
            """);

        Assert.ThrowsAsync<DeployLockLostException>(async () =>
            await database.ApplyAsync(Step(workspace, "V1__shop.sql", Shop), Deploy(Id), CancellationToken.None));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM sys.tables WHERE name = N'customer'"), Is.EqualTo("0"));
    }

    /// <summary>The attempt recorded as started, as the runner does before migrating, and its release's transaction.</summary>
    private static async Task<IReleaseTransaction> StartedReleaseAsync(ITargetDatabase database)
    {
        await database.RecordDeployAttemptAsync(Attempt(Id, DeployState.Started), CancellationToken.None);
        return await database.BeginReleaseTransactionAsync(Deploy(Id), CancellationToken.None);
    }

    private static MigrationStep Step(SqlServerWorkspace workspace, string name, string sql)
    {
        var path = workspace.Write(name, sql);
        return new MigrationStep(MigrationFile.Load(path), workspace.Engine.Prepare(path, sql));
    }

    private static PreparedScript Query(SqlServerWorkspace workspace, string name, string sql) => workspace.Engine.Prepare(workspace.Write(name, sql), sql);

    /// <summary>A production runner's context: named sessions, failures recorded in the attempt only.</summary>
    private static ApplyContext Deploy(string deployId, TimeSpan? lockTimeout = null) =>
        new("test-host", "shop", "1.0.0", deployId, lockTimeout, RecordFailures: false);

    private static DeployAttempt Attempt(string id, DeployState state)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return new DeployAttempt(id, "shop", "1.0.0", new string('a', 64), state, now, now, null, null, DeployAttempt.StateName(state), "test-host");
    }

    private static string Master(SqlServerWorkspace workspace) => new SqlConnectionStringBuilder(workspace.ConnectionString) { InitialCatalog = "master" }.ConnectionString;

    private static async Task<SqlConnection> OpenAsync(SqlServerWorkspace workspace, string applicationName)
    {
        var connection = new SqlConnection(new SqlConnectionStringBuilder(workspace.ConnectionString) { Pooling = false, ApplicationName = applicationName }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// Two deploys of one database: V1 (the shop and an empty ledger) applied, V2 (one ledger row) about to be
    /// applied by both, the first as <see cref="Id"/> and the second as <see cref="Other"/>.
    /// </summary>
    private sealed class TwoDeploys : IAsyncDisposable
    {
        private TwoDeploys(SqlServerWorkspace workspace, ITargetDatabase first, ITargetDatabase second, MigrationStep v2)
        {
            Workspace = workspace;
            First = first;
            Second = second;
            V2 = v2;
        }

        public SqlServerWorkspace Workspace { get; }

        public ITargetDatabase First { get; }

        public ITargetDatabase Second { get; }

        public MigrationStep V2 { get; }

        public static async Task<TwoDeploys> CreateAsync()
        {
            var workspace = await SqlServerWorkspace.CreateAsync();
            var first = await workspace.ConnectAsync();
            await first.ApplyAsync(Step(workspace, "V1__shop.sql", Shop), ApplyContext.ForThisMachine(), CancellationToken.None);
            return new TwoDeploys(workspace, first, await workspace.ConnectAsync(), Step(workspace, "V2__ledger.sql", "INSERT INTO dbo.ledger VALUES (N'applied');"));
        }

        /// <summary>Starts the second deploy's V2 and returns once its claim waits for a lock (the first's claim).</summary>
        public async Task<Task> SecondWaitingAsync()
        {
            var racing = Second.ApplyAsync(V2, Deploy(Other), CancellationToken.None);
            var sql = $"""
                SELECT count(*) FROM sys.dm_exec_requests AS r JOIN sys.dm_exec_sessions AS s ON s.session_id = r.session_id
                WHERE s.program_name LIKE N'MigrationTasks migrate {Other} %' AND r.blocking_session_id <> 0
                """;
            for (var wait = 0; wait < 300; wait++)
            {
                if (racing.IsCompleted)
                {
                    await racing;
                    Assert.Fail("the second deploy's claim did not wait for the first's");
                }

                if (await Workspace.QueryAsync(sql) is [[var count]] && count != "0")
                {
                    return racing;
                }

                await Task.Delay(100);
            }

            Assert.Fail("the second deploy's claim did not start waiting within 30 s");
            return racing;
        }

        /// <summary>V2 ran once, and the history says which deploy ran it.</summary>
        public async Task AssertAppliedOnceByAsync(string deployId)
        {
            Assert.That(await Workspace.ScalarAsync("SELECT count(*) FROM dbo.ledger"), Is.EqualTo("1"), "applied once");
            Assert.That(await Workspace.QueryAsync("SELECT deploy_id FROM migrationtasks.history WHERE script = N'V2__ledger.sql'"), Is.EqualTo(new[] { new[] { deployId } }));
        }

        public async ValueTask DisposeAsync()
        {
            await First.DisposeAsync();
            await Second.DisposeAsync();
        }
    }
}
