using MigrationTasks.Diagnostics;

namespace MigrationTasks.PostgreSql.Tests.Engine;

/// <summary>
/// How the PostgreSQL engine applies migrations, on real databases: what decides its transaction mode, and what a
/// PostgreSQL session carries between migrations. What every engine promises is in the shared DevLoopSuite and RecoverySuite.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class MigrationRunnerTests
{
    [Test]
    public async Task A_file_of_only_concurrent_index_statements_runs_outside_a_transaction()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__table.sql", "CREATE TABLE t (a int, b int);");
        workspace.Write("V2__indexes.sql", "CREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE INDEX CONCURRENTLY t_b ON t (b);");

        var problems = await workspace.DeployAsync();

        // Inside a transaction PostgreSQL refuses CREATE INDEX CONCURRENTLY (25001), so success proves the mode.
        Assert.That(problems, Is.Empty);
        Assert.That(workspace.Output, Does.Contain("V2__indexes.sql (2 statement(s), outside a transaction, statement by statement (CREATE INDEX CONCURRENTLY at line 1))"));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM pg_indexes WHERE tablename = 't'"), Is.EqualTo("2"));
        Assert.That(await workspace.ScalarAsync("SELECT statements_applied || '/' || statements_total || ' ' || outcome FROM migrationtasks.history WHERE version = '2'"), Is.EqualTo("2/2 success"));
    }

    [Test]
    public async Task A_file_mixing_a_concurrent_index_with_a_table_is_refused_before_anything_runs()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__first.sql", "CREATE TABLE first_table (a int);");
        var mixed = workspace.Write("V2__mixed.sql", "CREATE TABLE t (a int);\n\n  CREATE INDEX CONCURRENTLY t_a ON t (a);");

        var problems = await workspace.DeployAsync();

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{mixed}(3,3): error MIG2005: CREATE INDEX CONCURRENTLY cannot run inside a transaction"));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), Is.EqualTo("0"), "not even V1 ran");
    }

    [Test]
    public async Task A_session_setting_made_by_one_migration_does_not_leak_into_the_next()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__elsewhere.sql", "CREATE SCHEMA elsewhere;\nSELECT set_config('search_path', 'elsewhere', false);\nSET statement_timeout = 1;");
        workspace.Write("V2__table.sql", "CREATE TABLE lands_in_public (a int);\nSELECT pg_sleep(0.05);");

        var problems = await workspace.DeployAsync();

        Assert.That(problems, Is.Empty, workspace.Output);
        Assert.That(await workspace.ScalarAsync("SELECT schemaname FROM pg_tables WHERE tablename = 'lands_in_public'"), Is.EqualTo("public"));
    }

    [Test]
    public async Task SQL_standard_function_bodies_reach_the_server_whole_in_and_outside_a_transaction()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        const string functions = """
            CREATE FUNCTION two() RETURNS int LANGUAGE sql
            BEGIN ATOMIC
                SELECT 1;
                SELECT CASE WHEN true THEN 2 END;
            END;
            CREATE PROCEDURE log_twice(v text) LANGUAGE sql
            BEGIN ATOMIC
                INSERT INTO log VALUES (v);
                INSERT INTO log VALUES (v || ';');
            END;
            """;
        workspace.Write("V1__in_transaction.sql", "CREATE TABLE log (v text);\n" + functions);
        workspace.Write("V2__statement_by_statement.sql", "-- migrationtasks: no-transaction\n" + functions.Replace("two", "three").Replace("log_twice", "log_thrice"));

        var problems = await workspace.DeployAsync();

        // Npgsql cut each body at its first semicolon (npgsql/npgsql#4445) where psql keeps it whole.
        Assert.That(problems, Is.Empty, workspace.Output);
        Assert.That(await workspace.ScalarAsync("SELECT two() + three()"), Is.EqualTo("4"));
        await workspace.QueryAsync("CALL log_twice('a'); CALL log_thrice('b'); SELECT 1");
        Assert.That(await workspace.ScalarAsync("SELECT string_agg(v, ' ' ORDER BY v) FROM log"), Is.EqualTo("a a; b b;"));
    }

    [Test]
    public async Task A_role_a_migration_switches_to_owns_its_objects_but_not_its_history_row_nor_the_next_migration()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        var owner = "app_owner_" + Guid.NewGuid().ToString("N")[..8];
        await workspace.QueryAsync($"CREATE ROLE {owner}; GRANT CREATE ON SCHEMA public TO {owner}; SELECT 1");
        // Flyway-style files that switch role and never switch back: each psql -f session ends with the file.
        workspace.Write("V1__as_owner.sql", $"SET ROLE {owner};\nCREATE TABLE owned (a int);");
        workspace.Write("V2__as_deployer.sql", "CREATE TABLE not_owned (a int);");
        workspace.Write("V3__as_owner_concurrently.sql", $"-- migrationtasks: no-transaction\nSET SESSION AUTHORIZATION {owner};\nCREATE INDEX CONCURRENTLY owned_a ON owned (a);\nCREATE TABLE owned_too (a int);");
        workspace.Write("R__as_deployer.sql", "CREATE OR REPLACE VIEW not_owned_view AS SELECT a FROM not_owned;");

        var problems = await workspace.DeployAsync();

        // As the role, the history insert met "permission denied for schema migrationtasks".
        Assert.That(problems, Is.Empty, workspace.Output);
        var owners = await workspace.QueryAsync("SELECT relname || ' ' || pg_get_userbyid(relowner) FROM pg_class WHERE relname IN ('owned', 'owned_too', 'not_owned', 'not_owned_view') ORDER BY relname");
        Assert.That(owners.Select(r => r[0]), Is.EqualTo(new[] { $"not_owned {workspace.User}", $"not_owned_view {workspace.User}", $"owned {owner}", $"owned_too {owner}" }));
        Assert.That(await workspace.ScalarAsync("SELECT string_agg(DISTINCT applied_by_user || ' ' || outcome, ', ') FROM migrationtasks.history"), Is.EqualTo($"{workspace.User} success"));
    }

    [Test]
    public async Task A_script_run_statement_by_statement_that_opens_its_own_transaction_records_its_progress_inside_it()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__table.sql", "CREATE TABLE t (a int);");
        workspace.Write("V2__own_transaction.sql", "-- migrationtasks: no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nBEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;");

        var problems = await workspace.DeployAsync();

        Assert.That(problems, Is.Empty, workspace.Output);
        Assert.That(await workspace.ScalarAsync("SELECT statements_applied || '/' || statements_total || ' ' || outcome FROM migrationtasks.history WHERE version = '2'"), Is.EqualTo("4/4 success"));
        Assert.That(await workspace.ScalarAsync("SELECT count(*) FROM t"), Is.EqualTo("1"));
    }

    [Test]
    public async Task A_no_transaction_file_that_never_commits_the_transaction_it_begins_is_refused_before_anything_runs()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__table.sql", "CREATE TABLE t (a int);");
        var file = workspace.Write("V2__unended.sql", "-- migrationtasks: no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nBEGIN;\nINSERT INTO t VALUES (1);");

        var problems = await workspace.DeployAsync();

        Assert.That(problems.Select(p => p.ToString()), Has.One.StartsWith($"{file}(3,1): error MIG2027: BEGIN opens a transaction that the script never ends"));
        Assert.That(await workspace.ScalarAsync("SELECT to_regclass('public.t') IS NULL"), Is.EqualTo("t"), "not even V1 ran");
        var history = await workspace.ScalarAsync("SELECT to_regclass('migrationtasks.history')::text");
        var recorded = history is null ? "0" : await workspace.ScalarAsync("SELECT count(*) FROM migrationtasks.history");
        Assert.That(recorded, Is.EqualTo("0"), "the history is empty");
    }

    [Test]
    public async Task A_held_deploy_lock_times_out_naming_its_holder()
    {
        var workspace = await MigrationWorkspace.CreateAsync();
        workspace.Write("V1__a.sql", "CREATE TABLE a (a int);");
        await using var holder = new Npgsql.NpgsqlConnection(workspace.ConnectionString + ";Application Name=holder-app");
        await holder.OpenAsync();
        await using (var take = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(5569060832829261105)", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var problems = await workspace.DeployAsync(lockWait: TimeSpan.FromSeconds(1));

        Assert.That(problems.Select(p => p.Code), Is.EqualTo(new[] { DiagnosticCodes.LockTimeout }));
        Assert.That(problems[0].Message, Does.Contain("application 'holder-app'").And.Contain($"pid {holder.ProcessID}"));
    }
}
