using MigrationTasks.SqlServer.Live;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>The copy's own refusals and statements; its names, paths, moves and error words have fixtures of their own.</summary>
[TestFixture]
public sealed class SqlServerDatabaseCopyOfflineTests
{
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
}
