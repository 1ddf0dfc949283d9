using System.Reflection;
using System.Text.RegularExpressions;
using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Live;
using Microsoft.Data.SqlClient;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The history upgrade, the claim, the deploys table, the release transaction's SQL and the session names, without
/// a server: what is sent, that it parses, and how the server's errors are read. The live halves are in
/// SqlServerDeployProtocolTests.
/// </summary>
[TestFixture]
public sealed class SqlServerHistoryOfflineTests
{
    [Test]
    public void The_upgrade_adds_deploy_id_and_supersedes_backfills_it_and_makes_the_filtered_unique_index_once()
    {
        var sql = SqlServerHistory.EnsureSql;

        Assert.That(sql, Does.Contain("IF COL_LENGTH(N'migrationtasks.history', N'deploy_id') IS NULL\n    ALTER TABLE migrationtasks.history ADD deploy_id nvarchar(100) NULL;"));
        Assert.That(sql, Does.Contain("ADD supersedes bigint NOT NULL CONSTRAINT df_migrationtasks_history_supersedes DEFAULT ((0));"));
        Assert.That(sql, Does.Contain("p.script = h.script AND p.outcome = N''success'' AND p.id < h.id"), "each earlier success supersedes the success of its script before it");
        Assert.That(sql, Does.Contain("IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'migrationtasks.history', N'U') AND name = N'history_applied_once')"));
        Assert.That(sql, Does.Contain("EXEC(N'CREATE UNIQUE NONCLUSTERED INDEX history_applied_once ON migrationtasks.history (script, supersedes) WHERE ([outcome]=N''success'');')"));
        Assert.That(sql.IndexOf("EXEC(N'UPDATE", StringComparison.Ordinal), Is.LessThan(sql.IndexOf("CREATE UNIQUE", StringComparison.Ordinal)), "backfilled before the index");
        Assert.That(sql, Does.StartWith("EXEC sp_getapplock"), "two runners upgrading at once take turns");
        Assert.That(SqlServerHistory.UpToDateSql, Does.Contain("COL_LENGTH(N'migrationtasks.history', N'supersedes') IS NOT NULL").And.Contain("N'history_applied_once'"));
    }

    [Test]
    public void The_dynamic_statements_of_the_upgrade_parse_once_unquoted()
    {
        var inner = Regex.Matches(SqlServerHistory.EnsureSql, @"EXEC\(N'((?:[^']|'')*)'\)").Select(m => m.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal)).ToList();

        Assert.That(inner, Has.Count.EqualTo(3));
        Assert.That(inner[2], Is.EqualTo(SqlServerHistory.AppliedOnceIndexSql));
        foreach (var statement in inner)
        {
            Assert.That(ParseErrors(statement), Is.Empty, statement);
        }
    }

    [Test]
    public void A_claim_is_a_success_row_superseding_the_scripts_last_committed_success_read_past_uncommitted_claims()
    {
        var sql = SqlServerHistory.InsertSql;

        Assert.That(sql, Does.Contain("deploy_id, supersedes)").And.Contain("@deployId,"));
        Assert.That(sql, Does.Contain("ISNULL((SELECT MAX(p.id) FROM migrationtasks.history AS p WITH (READCOMMITTEDLOCK, READPAST)"));
        Assert.That(sql, Does.Contain("WHERE p.script = @script AND p.outcome = N'success'), 0)"));
        Assert.That(sql, Does.Contain("CASE WHEN @outcome = N'failed' THEN SYSDATETIMEOFFSET() END"), "a claim is finished by its completion, not when made");
        Assert.That(SqlServerHistory.CompleteSql, Does.Contain("finished_at = SYSDATETIMEOFFSET()").And.Contain("WHERE id = @id"));
        foreach (var write in new[] { SqlServerHistory.InsertSql, SqlServerHistory.CompleteSql, SqlServerHistory.UpdateSql })
        {
            Assert.That(write, Does.StartWith("SET ANSI_NULLS, ANSI_PADDING, ANSI_WARNINGS, ARITHABORT, CONCAT_NULL_YIELDS_NULL, QUOTED_IDENTIFIER ON;"),
                "a filtered index refuses writes under other settings, which a migration may have made");
        }
    }

    [TestCase(2601, "Cannot insert duplicate key row in object 'migrationtasks.history' with unique index 'history_applied_once'. The duplicate key value is (V3__x.sql, 0).", true)]
    [TestCase(2627, "Violation of UNIQUE KEY constraint 'history_applied_once'.", true)]
    [TestCase(2601, "Cannot insert duplicate key row in object 'dbo.customer' with unique index 'ux_email'.", false)]
    [TestCase(547, "The INSERT statement conflicted with the CHECK constraint ... history_applied_once", false)]
    public void Only_a_violation_of_the_applied_once_index_means_another_deploy_applied_the_migration(int number, string message, bool twice) =>
        Assert.That(SqlServerHistory.IsAppliedTwice(number, message), Is.EqualTo(twice));

    [Test]
    public void The_deploys_table_checks_every_deploy_state_by_name()
    {
        var check = Regex.Match(SqlServerHistory.DeploysTableSql, @"CONSTRAINT ck_migrationtasks_deploys_state CHECK \((?<expression>[^)]*)\)").Groups["expression"].Value;

        var names = Regex.Matches(check, @"\[state\]=N'(?<name>[a-z_]+)'").Select(m => m.Groups["name"].Value).ToList();

        Assert.That(names, Is.EqualTo(DeployAttempt.StateNames));
        Assert.That(names, Has.Count.EqualTo(Enum.GetValues<DeployState>().Length).And.Contain("needs_person").And.Contain("resolved"));
        Assert.That(check, Is.EqualTo(string.Join(" OR ", DeployAttempt.StateNames.Select(n => $"[state]=N'{n}'"))), "as sys.check_constraints stores an IN list");
    }

    [Test]
    public void The_deploys_table_has_the_columns_of_PostgreSQLs()
    {
        var table = Parse<CreateTableStatement>(SqlServerHistory.DeploysTableSql);

        Assert.That(table.Definition.ColumnDefinitions.Select(c => c.ColumnIdentifier.Value), Is.EqualTo(new[]
        {
            "id", "package_id", "package_version", "release_sha256", "state", "started_at", "updated_at", "backup_id", "backup_directory", "detail",
            "runner_host", "runner_user",
        }));
        Assert.That(SqlServerHistory.DeploysTableSql, Does.Contain("id nvarchar(100) NOT NULL CONSTRAINT pk_migrationtasks_deploys PRIMARY KEY"));
        Assert.That(SqlServerHistory.DeploysTableSql, Does.Contain("runner_user nvarchar(128) NOT NULL CONSTRAINT df_migrationtasks_deploys_user DEFAULT (original_login())"));
        Assert.That(SqlServerDeployJournal.ReadSql, Does.StartWith("SELECT id, package_id, package_version, release_sha256, state, started_at, updated_at, backup_id, backup_directory, detail, runner_host\n"));
        Assert.That(SqlServerDeployJournal.CreateSql, Does.StartWith("IF OBJECT_ID(N'migrationtasks.deploys', N'U') IS NULL\nCREATE TABLE migrationtasks.deploys"));
    }

    [Test]
    public void The_history_table_ends_with_the_columns_the_upgrade_appends_in_the_same_order()
    {
        var columns = Parse<CreateTableStatement>(SqlServerHistory.TableSql).Definition.ColumnDefinitions.Select(c => c.ColumnIdentifier.Value).ToList();

        Assert.That(columns.TakeLast(2), Is.EqualTo(new[] { "deploy_id", "supersedes" }), "DacFx rebuilds a table whose columns are in another order than the model's");
        Assert.That(SqlServerHistory.EnsureSql.IndexOf("ADD deploy_id", StringComparison.Ordinal), Is.LessThan(SqlServerHistory.EnsureSql.IndexOf("ADD supersedes", StringComparison.Ordinal)));
    }

    [Test]
    public void The_model_scripts_are_one_object_each_written_as_the_server_stores_them()
    {
        Assert.That(SqlServerHistory.ModelScripts, Has.Count.EqualTo(4));
        foreach (var script in SqlServerHistory.ModelScripts)
        {
            Assert.That(ParseErrors(script), Is.Empty, script);
            Assert.That(Statements(script), Has.Count.EqualTo(1), script);
        }

        // sys.check_constraints, sys.default_constraints and sys.indexes.filter_definition hold these texts; DacFx
        // compares them with the model's, so any other spelling would be planned as a change to MigrationTasks' tables.
        var text = string.Join("\n", SqlServerHistory.ModelScripts);
        Assert.That(Regex.Matches(text, @"CHECK \((?<expression>[^)]*)\)").Select(m => m.Groups["expression"].Value),
            Is.All.Match(@"^\[\w+\]=N'\w+'( OR \[\w+\]=N'\w+')*$"), "an IN list is stored as ORs of bracketed comparisons");
        Assert.That(Regex.Matches(text, @"DEFAULT (?<value>\(.*?\))(,|\n)").Select(m => m.Groups["value"].Value),
            Is.EquivalentTo(new[] { "(original_login())", "((0))", "(original_login())" }));
        Assert.That(SqlServerHistory.AppliedOnceIndexSql, Does.EndWith("WHERE ([outcome]=N'success');"));
        Assert.That(SqlServerHistory.ModelScriptsFor(withDeploysTable: false), Is.EqualTo(SqlServerHistory.ModelScripts.Take(3)));
    }

    [Test]
    public void Every_sql_text_of_the_deploy_protocol_parses_as_T_SQL()
    {
        var baseline = new SqlServerSessionBaseline("dbo", "deploy", "us_english", TimeSpan.FromSeconds(3));
        var texts = new Dictionary<string, string>
        {
            ["history up to date"] = SqlServerHistory.UpToDateSql,
            ["history upgrade"] = SqlServerHistory.EnsureSql,
            ["history claim"] = SqlServerHistory.InsertSql,
            ["history completion"] = SqlServerHistory.CompleteSql,
            ["history progress"] = SqlServerHistory.UpdateSql,
            ["deploys exist"] = SqlServerDeployJournal.ExistsSql,
            ["deploys read"] = SqlServerDeployJournal.ReadSql,
            ["deploys create"] = SqlServerDeployJournal.CreateSql,
            ["deploys upsert"] = SqlServerDeployJournal.UpsertSql,
            ["orphaned sessions"] = SqlServerDatabase.OrphanedSessionsSql,
            ["session begin"] = SqlServerSessionBaseline.BeginSql(TimeSpan.FromSeconds(3)),
            ["session begin without lock timeout"] = SqlServerSessionBaseline.BeginSql(null),
            ["session reset"] = baseline.ResetSql,
            ["session reset of an odd name"] = (baseline with { User = "o'neil", Language = "Fran'çais" }).ResetSql,
            ["before a verify query"] = SqlServerReleaseTransaction.BeforeQuerySql,
            ["after a verify query"] = SqlServerReleaseTransaction.AfterQuerySql,
            ["transaction state"] = SqlServerReleaseTransaction.TransactionStateSql,
        };

        foreach (var (what, sql) in texts)
        {
            Assert.That(ParseErrors(sql), Is.Empty, what);
        }
    }

    [Test]
    public void The_session_reset_reverts_impersonation_and_puts_back_every_setting_a_migration_may_change()
    {
        var reset = new SqlServerSessionBaseline("app_user", "deploy", "us_english", null).ResetSql;

        Assert.That(reset, Does.Contain("ISNULL(USER_NAME(), N'') = N'app_user' AND ISNULL(SUSER_SNAME(), N'') = N'deploy'"));
        Assert.That(reset, Does.Contain("REVERT;"));
        Assert.That(reset, Does.Contain("QUOTED_IDENTIFIER, XACT_ABORT ON;").And.Contain("SET ROWCOUNT 0;").And.Contain("SET TRANSACTION ISOLATION LEVEL READ COMMITTED;"));
        Assert.That(reset, Does.Contain("SET LOCK_TIMEOUT -1;").And.Contain("SET LANGUAGE N'us_english';"));
        Assert.That(Parse<TSqlScript>(reset).Batches, Has.Count.EqualTo(1), "REVERT must run in the session's own scope: one plain batch, no sp_executesql");
    }

    [TestCase(2.5, "SET LOCK_TIMEOUT 2500")]
    [TestCase(0.0001, "SET LOCK_TIMEOUT 1")]
    [TestCase(null, "SET LOCK_TIMEOUT -1")]
    public void The_statement_lock_timeout_is_in_milliseconds(double? seconds, string sql) =>
        Assert.That(SqlServerSessionBaseline.LockTimeoutSql(seconds is { } s ? TimeSpan.FromSeconds(s) : null), Is.EqualTo(sql));

    [Test]
    public void A_migration_gets_the_lock_timeout_and_XACT_ABORT_before_its_transaction()
    {
        Assert.That(SqlServerSessionBaseline.BeginSql(TimeSpan.FromSeconds(5)), Does.StartWith("SET XACT_ABORT ON;\nSET LOCK_TIMEOUT 5000;\nSELECT "));
    }

    [Test]
    public void Error_1222_is_a_lock_timeout_and_other_errors_are_not()
    {
        var batch = new SqlServerEngine().Prepare("V2__tier.sql", "ALTER TABLE dbo.customer ADD tier int NULL;").Statements[0];

        var waited = SqlServerErrors.Failure(FakeSqlException(1222, "Lock request time out period exceeded."), batch, 1);
        var deadlock = SqlServerErrors.Failure(FakeSqlException(1205, "Transaction (Process ID 61) was deadlocked on lock resources"), batch, 1);

        Assert.That(waited.IsLockTimeout, Is.True);
        Assert.That(waited.ErrorCode, Is.EqualTo("1222"));
        Assert.That(deadlock.IsLockTimeout, Is.False);
    }

    [Test]
    public void A_deploys_migration_session_is_named_for_it_and_the_orphan_query_finds_that_name()
    {
        var name = SqlServerConnections.DeploySessionName("20261203T101500123Z-1a2b3c", "build-01");
        var settings = SqlServerConnections.Named(SqlServerConnections.Parse("Server=db;Database=shop;Integrated Security=true;Application Name=ops"), name);

        Assert.That(name, Is.EqualTo("MigrationTasks migrate 20261203T101500123Z-1a2b3c (build-01)"));
        Assert.That(settings.ApplicationName, Is.EqualTo(name), "whatever the connection string calls itself");
        Assert.That(settings.Pooling, Is.False);
        Assert.That(SqlServerConnections.DeploySessionName(null, "build-01"), Is.Null, "dev builds and shadows are not a deploy's");
        Assert.That(SqlServerConnections.DeploySessionName("x", new string('h', 200)), Has.Length.EqualTo(128), "program_name holds 128 characters");
        Assert.That(SqlServerDatabase.OrphanedSessionsSql, Does.Contain("LIKE N'MigrationTasks migrate %'").And.Contain("s.session_id <> @@SPID").And.Contain("s.database_id = DB_ID()"));
        Assert.That($"MigrationTasks deploy lock (build-01)", Does.Not.StartWith(SqlServerConnections.DeploySessionPrefix), "the lock session is never taken for an orphan");
    }

    [Test]
    public void A_verify_query_runs_nested_under_a_savepoint_that_undoes_it()
    {
        Assert.That(SqlServerReleaseTransaction.BeforeQuerySql, Is.EqualTo("SAVE TRANSACTION migrationtasks_query;\nBEGIN TRANSACTION;"));
        Assert.That(SqlServerReleaseTransaction.AfterQuerySql, Does.EndWith("ROLLBACK TRANSACTION migrationtasks_query;"));
    }

    private static IList<TSqlStatement> Statements(string sql) => [.. Parse<TSqlScript>(sql).Batches.SelectMany(b => b.Statements)];

    private static T Parse<T>(string sql)
        where T : TSqlFragment
    {
        var fragment = new TSql160Parser(true).Parse(new StringReader(sql), out var errors);
        Assert.That(errors.Select(e => e.Message), Is.Empty, sql);
        return fragment as T ?? ((TSqlScript)fragment).Batches.SelectMany(b => b.Statements).OfType<T>().Single();
    }

    private static IEnumerable<string> ParseErrors(string sql)
    {
        new TSql160Parser(true).Parse(new StringReader(sql), out var errors);
        return errors.Select(e => $"{e.Line},{e.Column}: {e.Message}");
    }

    /// <summary>
    /// A SqlException as the server would raise it: SqlClient makes them only from the wire, so its internal
    /// factory is called (the constructors differ between versions; the longest of each is taken).
    /// </summary>
    private static SqlException FakeSqlException(int number, string message)
    {
        const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Instance;
        var errorConstructor = typeof(SqlError).GetConstructors(Internal).OrderByDescending(c => c.GetParameters().Length).First();
        var error = (SqlError)errorConstructor.Invoke([.. errorConstructor.GetParameters().Select(p => p.Name switch
        {
            "infoNumber" => number,
            "errorState" => (byte)1,
            "errorClass" => (byte)16,
            "server" => "db",
            "errorMessage" => message,
            "procedure" => "",
            "lineNumber" => 1,
            _ => p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null,
        })]);
        var errors = (SqlErrorCollection)typeof(SqlErrorCollection).GetConstructors(Internal).Single(c => c.GetParameters().Length == 0).Invoke(null);
        typeof(SqlErrorCollection).GetMethod("Add", Internal)!.Invoke(errors, [error]);
        var create = typeof(SqlException).GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.Name == "CreateException" && m.GetParameters() is [{ ParameterType: var first }, { ParameterType: var second }] && first == typeof(SqlErrorCollection) && second == typeof(string))
            .Single();
        return (SqlException)create.Invoke(null, [errors, "16.0"])!;
    }
}
