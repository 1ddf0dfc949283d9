using System.Security.Cryptography;
using System.Text;
using MigrationTasks.PostgreSql.Schema;
using MigrationTasks.Schema;

namespace MigrationTasks.PostgreSql.Tests.Schema;

public sealed class SchemaSnapshotTests
{
    [Test]
    public async Task A_JSON_round_trip_keeps_the_objects_and_the_hash()
    {
        var snapshot = await SchemaDatabase.BuildAndSnapshotAsync(
            "CREATE TABLE orders (id int PRIMARY KEY, note text DEFAULT E'tab\\there');",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;");

        var copy = SchemaSnapshot.FromJson(snapshot.ToJson());

        Assert.Multiple(() =>
        {
            Assert.That(copy.Hash, Is.EqualTo(snapshot.Hash));
            Assert.That(copy.Objects, Is.EqualTo(snapshot.Objects));
        });
    }

    [Test]
    public void The_hash_is_the_lowercase_SHA256_of_the_canonical_text_with_one_line_per_object()
    {
        var snapshot = new SchemaSnapshot([new SchemaObject("function", "public.f()", "line 1\nline 2\ttab \\ backslash")]);

        const string canonicalText = "function\tpublic.f()\tline 1\\nline 2\\ttab \\\\ backslash\n";
        Assert.Multiple(() =>
        {
            Assert.That(snapshot.ToCanonicalText(), Is.EqualTo(canonicalText));
            Assert.That(snapshot.Hash, Is.EqualTo(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalText))).ToLowerInvariant()));
        });
    }

    [Test]
    public void Objects_are_sorted_by_name_then_kind_whatever_order_they_come_in()
    {
        SchemaObject[] objects =
        [
            new("index", "public.orders_pkey", "CREATE UNIQUE INDEX orders_pkey"),
            new("column", "public.orders.id", "integer"),
            new("table", "public.orders", ""),
            new("constraint", "public.orders.id", "PRIMARY KEY (id)"),
        ];

        var snapshot = new SchemaSnapshot(objects);

        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Objects.Select(item => $"{item.Kind} {item.Name}"), Is.EqualTo(new[]
            {
                "table public.orders",
                "column public.orders.id",
                "constraint public.orders.id",
                "index public.orders_pkey",
            }));
            Assert.That(new SchemaSnapshot(objects.Reverse()).Hash, Is.EqualTo(snapshot.Hash));
        });
    }

    [Test]
    public void An_object_listed_twice_is_refused()
    {
        SchemaObject[] objects = [new("table", "public.t", ""), new("table", "public.t", "unlogged")];

        Assert.That(() => new SchemaSnapshot(objects), Throws.ArgumentException.With.Message.Contains("table public.t twice"));
    }

    [Test]
    public void JSON_whose_hash_does_not_match_its_objects_is_refused()
    {
        var json = new SchemaSnapshot([new SchemaObject("table", "public.t", "")]).ToJson().Replace("public.t", "public.u", StringComparison.Ordinal);

        Assert.That(() => SchemaSnapshot.FromJson(json), Throws.TypeOf<InvalidDataException>().With.Message.Contains("does not match"));
    }

    [Test]
    public void JSON_without_objects_is_refused()
    {
        Assert.That(() => SchemaSnapshot.FromJson("""{ "hash": "abc" }"""), Throws.TypeOf<InvalidDataException>());
    }
}
