using MigrationTasks.SqlServer.Live;

namespace MigrationTasks.SqlServer.Tests.Live;

[TestFixture]
public sealed class SqlServerCopyNamesTests
{
    [Test]
    public void The_copy_is_named_after_the_source_with_a_marker_and_a_suffix()
    {
        Assert.That(SqlServerCopyNames.CopyName("shop", "0123abcd"), Is.EqualTo("shop_mtcopy_0123abcd"));
        Assert.That(SqlServerCopyNames.CopyName("o]dd 'name'", "0123abcd"), Is.EqualTo("o]dd 'name'_mtcopy_0123abcd"), "quoting is the statements' job");
    }

    [Test]
    public void A_long_source_name_is_cut_to_fit_128_characters_keeping_the_suffix_and_never_splitting_a_surrogate_pair()
    {
        var name = SqlServerCopyNames.CopyName(new string('a', 128), "0123abcd");
        Assert.That(name, Has.Length.EqualTo(128));
        Assert.That(name, Does.EndWith("_mtcopy_0123abcd"));

        // 111 letters then an emoji (two chars) straddling the 112-character room: the whole pair goes.
        var emoji = SqlServerCopyNames.CopyName(new string('a', 111) + "😀tail", "0123abcd");
        Assert.That(emoji, Is.EqualTo(new string('a', 111) + "_mtcopy_0123abcd"));
        Assert.That(SqlServerConnections.QuoteName(emoji), Does.StartWith("[a"), "the name is one QUOTENAME accepts");
    }

    [Test]
    public void A_source_name_that_fits_exactly_is_kept_whole() =>
        Assert.That(SqlServerCopyNames.CopyName(new string('b', 112), "0123abcd"), Is.EqualTo(new string('b', 112) + "_mtcopy_0123abcd"));

    [Test]
    public void File_names_keep_only_safe_characters_of_the_source_and_stay_short()
    {
        Assert.That(SqlServerCopyNames.FileStem("my/shop:db*", "0123abcd"), Is.EqualTo("my_shop_db__mtcopy_0123abcd"));
        Assert.That(SqlServerCopyNames.FileStem(new string('x', 200), "0123abcd"), Is.EqualTo(new string('x', 40) + "_mtcopy_0123abcd"));
        Assert.That(SqlServerCopyNames.FileStem("crème brûlée", "0123abcd"), Is.EqualTo("cr_me_br_l_e_mtcopy_0123abcd"), "no letter outside ASCII reaches a file name");
    }

    [Test]
    public void Each_copy_gets_a_new_eight_digit_hex_suffix()
    {
        var suffixes = Enumerable.Range(0, 20).Select(_ => SqlServerCopyNames.NewSuffix()).ToList();

        Assert.That(suffixes, Has.All.Match("^[0-9a-f]{8}$"));
        Assert.That(suffixes, Is.Unique);
    }
}
