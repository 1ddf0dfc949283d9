using System.Diagnostics;
using MigrationTasks.Diagnostics;
using MigrationTasks.Scripts;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Live;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>The parts of the live path that need no server: connection strings, names, codes and SQL text.</summary>
[TestFixture]
public sealed class SqlServerOfflineTests
{
    private const string Password = "Sup3r-Secret-Pw!";

    [Test]
    public void A_connection_string_gets_a_short_connect_timeout_no_command_timeout_and_no_pooling()
    {
        var builder = SqlServerConnections.Parse($"Server=tcp:db.example.com,1433;Database=shop;User ID=deploy;Password={Password};Encrypt=True");

        Assert.That(builder.ConnectTimeout, Is.EqualTo(15));
        Assert.That(builder.CommandTimeout, Is.EqualTo(0));
        Assert.That(builder.Pooling, Is.False);
        Assert.That(builder.ApplicationName, Is.EqualTo("MigrationTasks"));
    }

    [Test]
    public void Timeouts_and_the_application_name_the_string_sets_are_kept()
    {
        var builder = SqlServerConnections.Parse("Server=db;Database=shop;Integrated Security=true;Connection Timeout=60;Command Timeout=120;Application Name=ops");

        Assert.That(builder.ConnectTimeout, Is.EqualTo(60));
        Assert.That(builder.CommandTimeout, Is.EqualTo(120));
        Assert.That(builder.ApplicationName, Is.EqualTo("ops"));
    }

    [Test]
    public void Active_Directory_Default_is_understood()
    {
        var builder = SqlServerConnections.Parse("Server=tcp:contoso.database.windows.net,1433;Database=shop;Authentication=Active Directory Default;Encrypt=True");

        Assert.That(builder.Authentication, Is.EqualTo(SqlAuthenticationMethod.ActiveDirectoryDefault));
        Assert.That(SqlServerConnections.Describe(builder), Is.EqualTo("contoso.database.windows.net,1433/shop"));
    }

    [Test]
    public void Active_Directory_Default_has_its_provider_and_the_libraries_it_needs()
    {
        // SqlClient 6 registers its Entra ID provider only when Microsoft.Identity.Client loads; DefaultAzureCredential
        // comes from Azure.Identity. SqlClient 7 would need extra packages for both (and DacFx would fail online).
        Assert.That(SqlAuthenticationProvider.GetProvider(SqlAuthenticationMethod.ActiveDirectoryDefault), Is.Not.Null);
        Assert.That(Type.GetType("Azure.Identity.DefaultAzureCredential, Azure.Identity"), Is.Not.Null);
        Assert.That(typeof(SqlConnection).Assembly.GetName().Version!.Major, Is.EqualTo(6), "SqlClient stays at the major version DacFx 170.5.96 brings");
    }

    [Test]
    public void An_invalid_connection_string_is_MIG1003_and_never_repeats_it()
    {
        var error = Assert.Throws<DiagnosticException>(() => SqlServerConnections.Parse($"Server=db;Pasword={Password};Bogus Key=1"))!;

        Assert.That(error.Diagnostics[0].Code, Is.EqualTo("MIG1003"));
        Assert.That(error.Diagnostics[0].Message, Does.Not.Contain(Password).And.Not.Contain("Bogus"));
    }

    [Test]
    public void The_display_name_is_server_and_database_only()
    {
        var builder = SqlServerConnections.Parse($"Data Source=tcp:10.0.0.5\\SQL2022,1433;Initial Catalog=orders;User ID=sa;Password={Password}");

        var name = SqlServerConnections.Describe(builder);

        Assert.That(name, Is.EqualTo("10.0.0.5\\SQL2022,1433/orders"));
        Assert.That(name, Does.Not.Contain("sa").And.Not.Contain(Password));
        Assert.That(SqlServerConnections.Describe(SqlServerConnections.Parse("Server=db;Integrated Security=true")), Is.EqualTo("db/(default database)"));
    }

    [Test]
    public void A_message_quoting_the_password_is_redacted()
    {
        var builder = SqlServerConnections.Parse($"Server=db;User ID=u;Password={Password}");

        Assert.That(SqlServerConnections.Redact($"login failed with {Password} for u", builder), Is.EqualTo("login failed with *** for u"));
    }

    [Test]
    public async Task An_unreachable_server_fails_the_connection_check_fast_with_MIG1004_and_no_password()
    {
        // Port 1 on the loopback refuses at once: the check must not retry for minutes as DacFx would.
        var clock = Stopwatch.StartNew();
        var error = Assert.ThrowsAsync<DiagnosticException>(async () =>
            await new SqlServerEngine().ConnectAsync($"Server=tcp:127.0.0.1,1;Database=shop;User ID=deploy;Password={Password};Connect Timeout=5;Encrypt=False", CancellationToken.None))!;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
        Assert.That(error.Diagnostics[0].Code, Is.EqualTo("MIG1004"));
        Assert.That(error.Diagnostics[0].Message, Does.Contain("127.0.0.1,1/shop").And.Not.Contain(Password));
        await Task.CompletedTask;
    }

    [Test]
    public void The_check_before_DacFx_fails_fast_too()
    {
        var clock = Stopwatch.StartNew();
        var error = Assert.ThrowsAsync<DiagnosticException>(async () =>
            await SqlServerConnectionCheck.RunAsync($"Server=tcp:127.0.0.1,1;Database=shop;User ID=deploy;Password={Password};Connect Timeout=5", CancellationToken.None))!;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
        Assert.That(error.Diagnostics[0].Code, Is.EqualTo("MIG1004"));
        Assert.That(error.Diagnostics[0].Message, Does.Not.Contain(Password));
    }

    [TestCase(0, null)]
    [TestCase(1, null)]
    [TestCase(-1, "TimedOut")]
    [TestCase(-2, "Cancelled")]
    [TestCase(-3, "DeadlockVictim")]
    [TestCase(-999, "CallError")]
    public void Sp_getapplock_return_codes_are_read_as_documented(int code, string? expected) =>
        Assert.That(SqlServerDeployLock.Interpret(code)?.ToString(), Is.EqualTo(expected));

    [Test]
    public void The_lock_is_per_database_in_master_and_the_documented_name_in_the_database()
    {
        Assert.That(SqlServerDeployLock.ResourceFor("shop", inMaster: true), Is.EqualTo("MigrationTasks:shop"));
        Assert.That(SqlServerDeployLock.ResourceFor("shop", inMaster: false), Is.EqualTo("MigrationTasks"));
    }

    [TestCase(1, false, false)]
    [TestCase(2, false, false)]
    [TestCase(1, true, false)]
    [TestCase(0, false, true)]
    [TestCase(0, true, true)]
    [TestCase(2, true, true)]
    public void The_transaction_count_after_a_batch_must_stay_one_deep(int tranCount, bool lastBatch, bool problem) =>
        Assert.That(TransactionCountRule.Check(tranCount, lastBatch), problem ? Is.Not.Null : Is.Null);

    [Test]
    public void A_commit_that_ends_the_migrations_transaction_says_what_to_do()
    {
        Assert.That(TransactionCountRule.Check(0, false), Does.Contain("COMMIT or ROLLBACK").And.Contain("-- migrationtasks: no-transaction"));
        Assert.That(TransactionCountRule.Check(3, true), Does.Contain("left 2 transaction(s) open"));
    }

    [Test]
    public void A_server_error_line_maps_back_to_the_file()
    {
        var file = "-- header\nCREATE TABLE a (id int);\nGO\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES ('x');\n";
        var batch = new SqlServerEngine().Prepare("V1__a.sql", file).Statements[1];

        var offset = SqlServerErrors.OffsetOfLine(batch, 2);

        Assert.That(file[offset!.Value..], Does.StartWith("INSERT INTO a VALUES ('x')"));
        Assert.That(SqlServerErrors.OffsetOfLine(batch, 9), Is.Null);
        Assert.That(SqlServerErrors.OffsetOfLine(batch, 0), Is.Null);
    }

    [Test]
    public void Names_that_cannot_be_parameters_are_bracket_quoted()
    {
        Assert.That(SqlServerConnections.QuoteName("shop"), Is.EqualTo("[shop]"));
        Assert.That(SqlServerConnections.QuoteName("we]ird; DROP DATABASE x --"), Is.EqualTo("[we]]ird; DROP DATABASE x --]"));
        Assert.That(SqlServerConnections.Literal("C:\\backups\\o'neil.bak"), Is.EqualTo("N'C:\\backups\\o''neil.bak'"));
        Assert.Throws<ArgumentException>(() => SqlServerConnections.QuoteName(new string('a', 129)));
    }

    [Test]
    public void Backup_and_restore_sql_takes_the_name_and_path_as_parameters()
    {
        Assert.That(SqlServerBackups.BackupSql, Is.EqualTo("BACKUP DATABASE @database TO DISK = @path WITH COPY_ONLY, CHECKSUM, INIT"));
        Assert.That(SqlServerBackups.VerifySql, Is.EqualTo("RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM"));
        Assert.That(SqlServerBackups.RestoreSql, Is.EqualTo("RESTORE DATABASE @database FROM DISK = @path WITH REPLACE, CHECKSUM"));
        Assert.That(SqlServerBackups.SingleUserSql("sh]op"), Is.EqualTo("ALTER DATABASE [sh]]op] SET SINGLE_USER WITH ROLLBACK IMMEDIATE"));
        Assert.That(SqlServerBackups.MultiUserSql("shop"), Is.EqualTo("ALTER DATABASE [shop] SET MULTI_USER"));
    }

    [Test]
    public void Every_sql_text_the_live_path_sends_parses_as_T_SQL()
    {
        // No server here: ScriptDom at least proves the syntax of what would be sent (names and types need a server).
        var texts = new Dictionary<string, string>
        {
            ["schema snapshot"] = SqlServerSchemaReader.Query,
            ["history table"] = SqlServerHistory.EnsureSql,
            ["history insert"] = SqlServerHistory.InsertSql,
            ["history update"] = SqlServerHistory.UpdateSql,
            ["lock holder"] = SqlServerDeployLock.HolderSql,
            ["backup"] = SqlServerBackups.BackupSql,
            ["verify"] = SqlServerBackups.VerifySql,
            ["restore"] = SqlServerBackups.RestoreSql,
            ["single user"] = SqlServerBackups.SingleUserSql("sh]op"),
            ["multi user"] = SqlServerBackups.MultiUserSql("shop"),
            ["copy's server facts"] = CopyServerFacts.Sql,
            ["copy's file list"] = BackupFileListRow.Sql,
            ["copy's backup file deletion"] = SqlServerBackupFileCleanup.DeleteSql,
            ["copy's backup file check"] = SqlServerBackupFileCleanup.FileExistsSql,
            ["copy's restore"] = SqlServerDatabaseCopy.RestoreSql(
                CopyFileMoves.Clause(CopyFileMoves.Targets([new("sh'op", "D", 1), new("sh'op_log", "L", 2)], "/data", "/log", "s"))),
            ["copy's drop"] = string.Join("\n", SqlServerDatabaseCopy.DropSql("o]dd")),
        };

        foreach (var (what, sql) in texts)
        {
            new Microsoft.SqlServer.TransactSql.ScriptDom.TSql160Parser(true).Parse(new StringReader(sql), out var errors);
            Assert.That(errors.Select(e => $"{e.Line},{e.Column}: {e.Message}"), Is.Empty, what);
        }
    }

    [TestCase(5, "Azure SQL Database")]
    [TestCase(8, "Azure SQL Managed Instance")]
    [TestCase(2, null)]
    [TestCase(3, null)]
    [TestCase(4, null)]
    public void Editions_without_backup_to_disk_are_named(int engineEdition, string? refusal) =>
        Assert.That(SqlServerBackups.WhyNoDiskBackup(engineEdition), Is.EqualTo(refusal));
}
