using MigrationTasks.SqlServer.Live;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>The parts of the database copy that need no server: names, server paths, the MOVE list, refusals.</summary>
[TestFixture]
public sealed class SqlServerDatabaseCopyOfflineTests
{
    private static readonly CopyTarget Target = new(
        "shop", "shop_mtcopy_0123abcd", "shop_mtcopy_0123abcd", "/var/opt/mssql/backup/shop_mtcopy_0123abcd.bak", "/var/opt/mssql/backup", "/var/opt/mssql/data", "/var/opt/mssql/log");

    [Test]
    public void The_copy_is_named_after_the_source_with_a_marker_and_a_suffix()
    {
        Assert.That(SqlServerDatabaseCopy.CopyName("shop", "0123abcd"), Is.EqualTo("shop_mtcopy_0123abcd"));
        Assert.That(SqlServerDatabaseCopy.CopyName("o]dd 'name'", "0123abcd"), Is.EqualTo("o]dd 'name'_mtcopy_0123abcd"), "quoting is the statements' job");
    }

    [Test]
    public void A_long_source_name_is_cut_to_fit_128_characters_keeping_the_suffix_and_never_splitting_a_surrogate_pair()
    {
        var name = SqlServerDatabaseCopy.CopyName(new string('a', 128), "0123abcd");
        Assert.That(name, Has.Length.EqualTo(128));
        Assert.That(name, Does.EndWith("_mtcopy_0123abcd"));

        // 111 letters then an emoji (two chars) straddling the 112-character room: the whole pair goes.
        var emoji = SqlServerDatabaseCopy.CopyName(new string('a', 111) + "😀tail", "0123abcd");
        Assert.That(emoji, Is.EqualTo(new string('a', 111) + "_mtcopy_0123abcd"));
        Assert.That(SqlServerConnections.QuoteName(emoji), Does.StartWith("[a"), "the name is one QUOTENAME accepts");
    }

    [Test]
    public void File_names_keep_only_safe_characters_of_the_source_and_stay_short()
    {
        Assert.That(SqlServerDatabaseCopy.FileStem("my/shop:db*", "0123abcd"), Is.EqualTo("my_shop_db__mtcopy_0123abcd"));
        Assert.That(SqlServerDatabaseCopy.FileStem(new string('x', 200), "0123abcd"), Is.EqualTo(new string('x', 40) + "_mtcopy_0123abcd"));
    }

    [TestCase("/var/opt/mssql/data/", '/')]
    [TestCase("/var/opt/mssql/data", '/')]
    [TestCase(@"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\", '\\')]
    [TestCase(@"\\backups\sql\", '\\')]
    [TestCase("C:", '\\')]
    public void The_separator_is_the_one_the_servers_own_paths_use(string path, char separator) =>
        Assert.That(SqlServerDatabaseCopy.ServerSeparator(path), Is.EqualTo(separator));

    [Test]
    public void Server_paths_are_joined_and_split_with_the_servers_separator_whatever_the_client_is()
    {
        Assert.That(SqlServerDatabaseCopy.JoinServerPath("/var/opt/mssql/data/", "a.bak"), Is.EqualTo("/var/opt/mssql/data/a.bak"));
        Assert.That(SqlServerDatabaseCopy.JoinServerPath(@"D:\Backup", "a.bak"), Is.EqualTo(@"D:\Backup\a.bak"));
        Assert.That(SqlServerDatabaseCopy.JoinServerPath(@"D:\Backup\", "a.bak"), Is.EqualTo(@"D:\Backup\a.bak"));
        Assert.That(SqlServerDatabaseCopy.FolderOf("/var/opt/mssql/data/shop.mdf"), Is.EqualTo("/var/opt/mssql/data"));
        Assert.That(SqlServerDatabaseCopy.FolderOf(@"C:\SQL\DATA\shop.mdf"), Is.EqualTo(@"C:\SQL\DATA"));
        Assert.That(SqlServerDatabaseCopy.FolderOf("shop.mdf"), Is.Null);
        Assert.That(SqlServerDatabaseCopy.FolderOf(null), Is.Null);
    }

    [Test]
    public void Every_file_of_the_backup_is_moved_by_type_data_log_and_filestream_or_memory_optimized_containers()
    {
        BackupFile[] files =
        [
            new("shop", "D", 1),
            new("shop_log", "L", 2),
            new("shop_archive", "D", 3),
            new("shop_mod", "S", 65537),
            new("it's", "D", 4),
        ];

        var targets = SqlServerDatabaseCopy.MoveTargets(files, "/var/opt/mssql/data/", "/var/opt/mssql/log", "shop_mtcopy_0123abcd");

        Assert.That(targets, Is.EqualTo(new[]
        {
            ("shop", "/var/opt/mssql/data/shop_mtcopy_0123abcd_1.mdf"),
            ("shop_log", "/var/opt/mssql/log/shop_mtcopy_0123abcd_2.ldf"),
            ("shop_archive", "/var/opt/mssql/data/shop_mtcopy_0123abcd_3.ndf"),
            ("shop_mod", "/var/opt/mssql/data/shop_mtcopy_0123abcd_65537"),
            ("it's", "/var/opt/mssql/data/shop_mtcopy_0123abcd_4.ndf"),
        }));
        Assert.That(SqlServerDatabaseCopy.MoveClause(targets), Is.EqualTo(
            "MOVE N'shop' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_1.mdf', " +
            "MOVE N'shop_log' TO N'/var/opt/mssql/log/shop_mtcopy_0123abcd_2.ldf', " +
            "MOVE N'shop_archive' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_3.ndf', " +
            "MOVE N'shop_mod' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_65537', " +
            "MOVE N'it''s' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_4.ndf'"));
    }

    [Test]
    public void A_windows_server_gets_backslashes_in_its_move_list()
    {
        var targets = SqlServerDatabaseCopy.MoveTargets([new("shop", "D", 1)], @"C:\SQL\DATA\", @"C:\SQL\DATA\", "s");

        Assert.That(targets.Single().Physical, Is.EqualTo(@"C:\SQL\DATA\s_1.mdf"));
    }

    [Test]
    public void The_drop_quotes_the_name_and_survives_a_copy_left_restoring()
    {
        var statements = SqlServerDatabaseCopy.DropSql("o]dd_mtcopy_0123abcd");

        Assert.That(statements, Is.EqualTo(new[]
        {
            "ALTER DATABASE [o]]dd_mtcopy_0123abcd] SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
            "IF DB_ID(N'o]dd_mtcopy_0123abcd') IS NOT NULL DROP DATABASE [o]]dd_mtcopy_0123abcd]",
        }));
    }

    [TestCase(5, "CREATE DATABASE … AS COPY OF")]
    [TestCase(8, "Azure SQL Managed Instance cannot BACKUP DATABASE to a file")]
    [TestCase(6, "Azure Synapse Analytics")]
    public void Cloud_editions_without_file_backups_are_refused_with_the_reason(int edition, string expected) =>
        Assert.That(SqlServerDatabaseCopy.WhyNoCopy(edition), Does.Contain(expected));

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void Boxed_editions_may_be_copied(int edition) => Assert.That(SqlServerDatabaseCopy.WhyNoCopy(edition), Is.Null);

    [Test]
    public void A_backup_refused_for_permission_names_the_permission_and_keeps_the_servers_words()
    {
        var reason = SqlServerDatabaseCopy.Reason(CopyStep.Backup,
            [(262, "BACKUP DATABASE permission denied in database 'shop'."), (3013, "BACKUP DATABASE is terminating abnormally.")], Target);

        Assert.That(reason, Is.EqualTo(
            "the login lacks BACKUP DATABASE permission on shop (db_backupoperator or db_owner) " +
            "(BACKUP DATABASE: 262: BACKUP DATABASE permission denied in database 'shop'.)"));
    }

    [TestCase(nameof(CopyStep.ReadFileList), 262)]
    [TestCase(nameof(CopyStep.Restore), 262)]
    [TestCase(nameof(CopyStep.Restore), 3110)]
    public void A_restore_refused_for_permission_names_CREATE_DATABASE(string step, int number)
    {
        var reason = SqlServerDatabaseCopy.Reason(Enum.Parse<CopyStep>(step), [(number, "denied"), (3013, "RESTORE DATABASE is terminating abnormally.")], Target);

        Assert.That(reason, Does.StartWith("the login lacks CREATE DATABASE permission").And.EndWith($": {number}: denied)"));
    }

    [Test]
    public void A_backup_folder_the_server_cannot_write_is_named()
    {
        var reason = SqlServerDatabaseCopy.Reason(CopyStep.Backup,
            [(3201, "Cannot open backup device '/var/opt/mssql/backup/x.bak'. Operating system error 5(Access is denied.)."), (3013, "BACKUP DATABASE is terminating abnormally.")], Target);

        Assert.That(reason, Does.StartWith("the SQL Server service account cannot write the backup file in /var/opt/mssql/backup").And.Contain("3201"));
    }

    [Test]
    public void Files_the_restore_cannot_create_name_the_data_folder_and_the_planning_error_is_passed_over()
    {
        var reason = SqlServerDatabaseCopy.Reason(CopyStep.Restore,
            [(3119, "Problems were identified while planning for the RESTORE statement."), (5133, "Directory lookup for the file failed."), (3013, "RESTORE DATABASE is terminating abnormally.")], Target);

        Assert.That(reason, Does.StartWith("the SQL Server service account cannot create the copy's files in /var/opt/mssql/data").And.Contain("RESTORE DATABASE: 5133"));
    }

    [TestCase(3257, "no room")]
    [TestCase(1827, "size limit")]
    [TestCase(3023, "try again")]
    [TestCase(50000, "RESTORE DATABASE failed")]
    public void Other_known_failures_say_what_happened(int number, string expected) =>
        Assert.That(SqlServerDatabaseCopy.Reason(CopyStep.Restore, [(number, "server words")], Target), Does.Contain(expected).And.EndWith("server words)"));

    [Test]
    public void Only_the_terminating_error_is_still_a_reason() =>
        Assert.That(SqlServerDatabaseCopy.Reason(CopyStep.Restore, [(3013, "RESTORE DATABASE is terminating abnormally.")], Target),
            Is.EqualTo("RESTORE DATABASE failed (RESTORE DATABASE: 3013: RESTORE DATABASE is terminating abnormally.)"));
}
