using MigrationTasks.SqlServer.Live;

namespace MigrationTasks.SqlServer.Tests.Live;

[TestFixture]
public sealed class CopyFileMovesTests
{
    [Test]
    public void Every_file_of_the_backup_is_moved_by_type_data_log_and_filestream_or_memory_optimized_containers()
    {
        BackupFileListRow[] files =
        [
            new("shop", "D", 1),
            new("shop_log", "L", 2),
            new("shop_archive", "D", 3),
            new("shop_mod", "S", 65537),
            new("it's", "D", 4),
        ];

        var targets = CopyFileMoves.Targets(files, "/var/opt/mssql/data/", "/var/opt/mssql/log", "shop_mtcopy_0123abcd");

        Assert.That(targets, Is.EqualTo(new[]
        {
            ("shop", "/var/opt/mssql/data/shop_mtcopy_0123abcd_1.mdf"),
            ("shop_log", "/var/opt/mssql/log/shop_mtcopy_0123abcd_2.ldf"),
            ("shop_archive", "/var/opt/mssql/data/shop_mtcopy_0123abcd_3.ndf"),
            ("shop_mod", "/var/opt/mssql/data/shop_mtcopy_0123abcd_65537"),
            ("it's", "/var/opt/mssql/data/shop_mtcopy_0123abcd_4.ndf"),
        }));
        Assert.That(CopyFileMoves.Clause(targets), Is.EqualTo(
            "MOVE N'shop' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_1.mdf', " +
            "MOVE N'shop_log' TO N'/var/opt/mssql/log/shop_mtcopy_0123abcd_2.ldf', " +
            "MOVE N'shop_archive' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_3.ndf', " +
            "MOVE N'shop_mod' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_65537', " +
            "MOVE N'it''s' TO N'/var/opt/mssql/data/shop_mtcopy_0123abcd_4.ndf'"));
    }

    [Test]
    public void A_windows_server_gets_backslashes_in_its_move_list()
    {
        var targets = CopyFileMoves.Targets([new("shop", "D", 1)], @"C:\SQL\DATA\", @"C:\SQL\DATA\", "s");

        Assert.That(targets.Single().Physical, Is.EqualTo(@"C:\SQL\DATA\s_1.mdf"));
    }
}
