using MigrationTasks.SqlServer.Live;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>Where a copy's files go, from what the server reports (SQL Server 2019 reports all three folders, older ones fewer).</summary>
[TestFixture]
public sealed class CopyServerFactsTests
{
    [Test]
    public void The_servers_default_backup_data_and_log_folders_are_used_when_it_reports_them() =>
        Assert.That(
            new CopyServerFacts("/var/opt/mssql/backup/", "/var/opt/mssql/data/", "/var/opt/mssql/log/", "/elsewhere/shop.mdf", true).Folders(),
            Is.EqualTo(("/var/opt/mssql/backup/", "/var/opt/mssql/data/", "/var/opt/mssql/log/")));

    [Test]
    public void Before_SQL_Server_2019_the_backup_goes_to_the_data_folder_and_the_log_follows_it() =>
        Assert.That(
            new CopyServerFacts(null, @"C:\SQL\DATA\", null, @"D:\db\shop.mdf", false).Folders(),
            Is.EqualTo((@"C:\SQL\DATA\", @"C:\SQL\DATA\", @"C:\SQL\DATA\")));

    [Test]
    public void Before_SQL_Server_2012_everything_goes_beside_the_sources_own_data_file() =>
        Assert.That(
            new CopyServerFacts(null, null, null, @"D:\db\shop.mdf", false).Folders(),
            Is.EqualTo((@"D:\db", @"D:\db", @"D:\db")));

    [Test]
    public void A_server_that_names_no_data_folder_gives_none() =>
        Assert.That(new CopyServerFacts("/var/opt/mssql/backup", null, "/var/opt/mssql/log", null, true).Folders(), Is.Null);

    [Test]
    public void The_copy_target_joins_its_backup_file_with_the_servers_separator_and_names_everything_after_the_source()
    {
        var target = CopyTarget.For("my/shop", "0123abcd", @"C:\SQL\Backup", @"C:\SQL\DATA", @"C:\SQL\LOG");

        Assert.That(target, Is.EqualTo(new CopyTarget(
            "my/shop", "my/shop_mtcopy_0123abcd", "my_shop_mtcopy_0123abcd", @"C:\SQL\Backup\my_shop_mtcopy_0123abcd.bak", @"C:\SQL\Backup", @"C:\SQL\DATA", @"C:\SQL\LOG")));
        Assert.That(target.Scene, Is.EqualTo(BackupScene.ForCopy("my/shop", @"C:\SQL\Backup", @"C:\SQL\DATA")));
    }
}
