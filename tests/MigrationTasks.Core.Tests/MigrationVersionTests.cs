using MigrationTasks.Migrations;

namespace MigrationTasks.Core.Tests;

public sealed class MigrationVersionTests
{
    [TestCase("1_10", "1_9", 1)]
    [TestCase("2", "1_10", 1)]
    [TestCase("1.1", "1_1", 0)]
    [TestCase("1.0", "1", 0)]
    [TestCase("20201207_10523", "20201207_9999", 1)]
    [TestCase("17.1", "17.0.9", 1)]
    [TestCase("001", "1", 0)]
    [TestCase("99999999999999999999", "99999999999999999998", 1)]
    public void Versions_compare_by_numeric_parts(string left, string right, int expected)
    {
        var compared = Math.Sign(MigrationVersion.Parse(left).CompareTo(MigrationVersion.Parse(right)));

        Assert.That(compared, Is.EqualTo(expected));
        Assert.That(Math.Sign(MigrationVersion.Parse(right).CompareTo(MigrationVersion.Parse(left))), Is.EqualTo(-expected));
    }

    [TestCase("1.0", "1")]
    [TestCase("01_02", "1.2")]
    [TestCase("20201207_10523", "20201207.10523")]
    public void The_canonical_form_drops_leading_and_trailing_zeros(string text, string canonical) =>
        Assert.That(MigrationVersion.Parse(text).Canonical, Is.EqualTo(canonical));

    [TestCase("")]
    [TestCase("1..2")]
    [TestCase("1a")]
    [TestCase("_1")]
    public void Malformed_versions_are_rejected(string text) =>
        Assert.That(MigrationVersion.TryParse(text, out _), Is.False);
}
