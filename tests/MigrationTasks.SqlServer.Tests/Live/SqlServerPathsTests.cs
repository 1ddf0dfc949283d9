using MigrationTasks.SqlServer.Live;

namespace MigrationTasks.SqlServer.Tests.Live;

[TestFixture]
public sealed class SqlServerPathsTests
{
    [TestCase("/var/opt/mssql/data/", '/')]
    [TestCase("/var/opt/mssql/data", '/')]
    [TestCase(@"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\", '\\')]
    [TestCase(@"\\backups\sql\", '\\')]
    [TestCase("C:", '\\')]
    [TestCase(@"C:\mixed/path", '\\')]
    public void The_separator_is_the_one_the_servers_own_paths_use(string path, char separator) =>
        Assert.That(SqlServerPaths.Separator(path), Is.EqualTo(separator));

    [Test]
    public void Server_paths_are_joined_and_split_with_the_servers_separator_whatever_the_client_is()
    {
        Assert.That(SqlServerPaths.Join("/var/opt/mssql/data/", "a.bak"), Is.EqualTo("/var/opt/mssql/data/a.bak"));
        Assert.That(SqlServerPaths.Join(@"D:\Backup", "a.bak"), Is.EqualTo(@"D:\Backup\a.bak"));
        Assert.That(SqlServerPaths.Join(@"D:\Backup\", "a.bak"), Is.EqualTo(@"D:\Backup\a.bak"));
        Assert.That(SqlServerPaths.Join(@"\\backups\sql\", "a.bak"), Is.EqualTo(@"\\backups\sql\a.bak"));
        Assert.That(SqlServerPaths.FolderOf("/var/opt/mssql/data/shop.mdf"), Is.EqualTo("/var/opt/mssql/data"));
        Assert.That(SqlServerPaths.FolderOf(@"C:\SQL\DATA\shop.mdf"), Is.EqualTo(@"C:\SQL\DATA"));
        Assert.That(SqlServerPaths.FolderOf("shop.mdf"), Is.Null);
        Assert.That(SqlServerPaths.FolderOf("/shop.mdf"), Is.Null, "the root is no folder a copy's files go to");
        Assert.That(SqlServerPaths.FolderOf(""), Is.Null);
        Assert.That(SqlServerPaths.FolderOf(null), Is.Null);
    }
}
