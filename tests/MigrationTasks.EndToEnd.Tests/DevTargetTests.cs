using MigrationTasks.Tasks;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// What the MigrationDevTarget task keeps of the dev connection string: one hash per target (host, port, database,
/// user), the same whatever else the string says, and nothing of the password. The build itself is covered by
/// <see cref="BuildSwitchTests"/>; these pin the normalization.
/// </summary>
public sealed class DevTargetTests
{
    private const string Dev = "Host=db.example.com;Port=5432;Database=shop_dev;Username=dev;Password=first-secret";

    [Test]
    public void An_unset_or_blank_variable_is_no_target()
    {
        Assert.That(MigrationDevTarget.Describe(null), Does.StartWith("none"));
        Assert.That(MigrationDevTarget.Describe("  "), Does.StartWith("none"));
    }

    [Test]
    public void The_password_timeouts_and_key_spelling_do_not_change_the_target()
    {
        var expected = MigrationDevTarget.Describe(Dev);

        Assert.That(expected, Does.Match("^sha256:[0-9a-f]{64}$"));
        Assert.That(MigrationDevTarget.Describe("host=DB.example.com; port=5432; database=shop_dev; user name=dev; password=other; Timeout=30"), Is.EqualTo(expected));
        Assert.That(MigrationDevTarget.Describe("Server=db.example.com;Port=5432;Initial Catalog=shop_dev;User ID=dev"), Is.EqualTo(expected));
    }

    [TestCase("Host=db2.example.com;Port=5432;Database=shop_dev;Username=dev;Password=first-secret")]
    [TestCase("Host=db.example.com;Port=5433;Database=shop_dev;Username=dev;Password=first-secret")]
    [TestCase("Host=db.example.com;Port=5432;Database=shop_test;Username=dev;Password=first-secret")]
    [TestCase("Host=db.example.com;Port=5432;Database=shop_dev;Username=admin;Password=first-secret")]
    [TestCase("Host=db.example.com;Port=5432;Database=Shop_Dev;Username=dev;Password=first-secret")]
    public void Another_host_port_database_or_user_is_another_target(string other)
    {
        Assert.That(MigrationDevTarget.Describe(other), Is.Not.EqualTo(MigrationDevTarget.Describe(Dev)));
    }

    [Test]
    public void A_string_with_no_known_key_is_keyed_on_its_other_keys_without_the_secret_ones()
    {
        var a = MigrationDevTarget.Describe("Endpoint=one;Password=x");
        Assert.That(MigrationDevTarget.Describe("Endpoint=one;Password=y"), Is.EqualTo(a));
        Assert.That(MigrationDevTarget.Describe("Endpoint=two;Password=x"), Is.Not.EqualTo(a));
    }

    [Test]
    public void An_unreadable_string_keeps_nothing_of_its_value()
    {
        Assert.That(MigrationDevTarget.Describe("Host=db;Password='unterminated"), Is.EqualTo("unreadable"));
    }
}
