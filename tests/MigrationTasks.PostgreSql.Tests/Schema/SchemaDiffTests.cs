using MigrationTasks.PostgreSql.Schema;
using MigrationTasks.Schema;

namespace MigrationTasks.PostgreSql.Tests.Schema;

public sealed class SchemaDiffTests
{
    private const string OrdersSchema = """
        CREATE TYPE public.mood AS ENUM ('happy', 'sad');
        CREATE TABLE public.orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL DEFAULT 0, created_at date NOT NULL);
        CREATE INDEX orders_created_at_idx ON public.orders (created_at);
        CREATE FUNCTION public.order_total(order_id int) RETURNS numeric LANGUAGE sql
            AS $$ SELECT total FROM public.orders WHERE id = order_id $$;
        CREATE VIEW public.recent_orders AS SELECT id, created_at FROM public.orders WHERE created_at > '2024-01-01';
        """;

    private SchemaSnapshot _expected = null!;

    [OneTimeSetUp]
    public async Task ReadExpectedSchemaAsync() => _expected = await SchemaDatabase.BuildAndSnapshotAsync(OrdersSchema);

    [TestCase("ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2)", "column", "public.orders.total", SchemaChange.Changed,
        TestName = "A changed column type is a changed column")]
    [TestCase("ALTER TABLE orders ALTER COLUMN total SET DEFAULT 1", "column", "public.orders.total", SchemaChange.Changed,
        TestName = "A changed default is a changed column")]
    [TestCase("DROP INDEX orders_created_at_idx", "index", "public.orders_created_at_idx", SchemaChange.Missing,
        TestName = "A dropped index is a missing index")]
    [TestCase("CREATE FUNCTION extra() RETURNS int LANGUAGE sql AS 'SELECT 1'", "function", "public.extra()", SchemaChange.Unexpected,
        TestName = "An added function is an unexpected function")]
    [TestCase("CREATE OR REPLACE FUNCTION order_total(order_id int) RETURNS numeric LANGUAGE sql AS 'SELECT 0'", "function",
        "public.order_total(integer)", SchemaChange.Changed, TestName = "A changed function body is a changed function")]
    [TestCase("CREATE OR REPLACE VIEW recent_orders AS SELECT id, created_at FROM orders WHERE created_at > '2025-01-01'", "view",
        "public.recent_orders", SchemaChange.Changed, TestName = "A changed view query is a changed view")]
    [TestCase("ALTER TYPE mood ADD VALUE 'meh'", "enum type", "public.mood", SchemaChange.Changed,
        TestName = "A new enum label is a changed enum type")]
    public async Task A_change_shows_as_one_difference(string change, string kind, string name, SchemaChange expectedChange)
    {
        var actual = await SchemaDatabase.BuildAndSnapshotAsync(OrdersSchema, change);

        var difference = SchemaDiff.Compare(_expected, actual).Single();

        Assert.That((difference.Kind, difference.Name, difference.Change), Is.EqualTo((kind, name, expectedChange)));
    }

    [Test]
    public async Task A_changed_column_reads_with_both_definitions()
    {
        var actual = await SchemaDatabase.BuildAndSnapshotAsync(OrdersSchema, "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2)");

        var difference = SchemaDiff.Compare(_expected, actual).Single();

        Assert.That(
            difference.ToString(),
            Is.EqualTo("changed column public.orders.total: expected \"numeric(10,2) not null default 0\", found \"numeric(12,2) not null default 0\""));
    }

    [Test]
    public void Equal_snapshots_have_no_differences()
    {
        var copy = new SchemaSnapshot(_expected.Objects.Reverse());

        Assert.That(SchemaDiff.Compare(_expected, copy), Is.Empty);
    }

    [Test]
    public void Missing_and_unexpected_objects_read_with_the_definition_they_have()
    {
        var expected = new SchemaSnapshot([new SchemaObject("table", "public.a", ""), new SchemaObject("index", "public.a_idx", "CREATE INDEX a_idx")]);
        var actual = new SchemaSnapshot([new SchemaObject("table", "public.b", "unlogged")]);

        var differences = SchemaDiff.Compare(expected, actual).Select(difference => difference.ToString());

        Assert.That(differences, Is.EqualTo(new[]
        {
            "missing table public.a",
            "missing index public.a_idx: expected \"CREATE INDEX a_idx\"",
            "unexpected table public.b: found \"unlogged\"",
        }));
    }
}
