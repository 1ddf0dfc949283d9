using MigrationTasks.PostgreSql.Schema;
using MigrationTasks.Schema;
using Npgsql;

namespace MigrationTasks.PostgreSql.Tests.Schema;

public sealed class SchemaSnapshotReaderTests
{
    private const string SalesSchema = """
        CREATE SCHEMA sales;
        CREATE TYPE sales.mood AS ENUM ('happy', 'sad');
        CREATE DOMAIN sales.amount AS numeric(12,2) NOT NULL DEFAULT 0 CONSTRAINT positive CHECK (VALUE >= 0);
        CREATE TYPE sales.address AS (street text, city text);
        CREATE SEQUENCE sales.invoice_numbers AS integer START 1000 INCREMENT 10 MINVALUE 1000 MAXVALUE 9999990 CYCLE;
        CREATE TABLE sales.customers (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text COLLATE "C" NOT NULL,
            mood sales.mood,
            home sales.address);
        CREATE TABLE sales.orders (
            id serial PRIMARY KEY,
            customer_id bigint NOT NULL REFERENCES sales.customers (id),
            total numeric(10,2) NOT NULL DEFAULT 0 CHECK (total >= 0),
            total_with_tax numeric GENERATED ALWAYS AS (total * 1.2) STORED,
            created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00+00');
        CREATE INDEX orders_created_at_idx ON sales.orders (created_at DESC);
        CREATE UNLOGGED TABLE sales.scratch (payload jsonb) WITH (fillfactor = 70);
        CREATE TABLE sales.events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
        CREATE TABLE sales.events_2024 PARTITION OF sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE VIEW sales.big_orders AS SELECT id, total FROM sales.orders WHERE total > 100;
        CREATE MATERIALIZED VIEW sales.customer_totals AS SELECT customer_id, sum(total) AS total FROM sales.orders GROUP BY customer_id;
        CREATE FUNCTION sales.order_count(customer bigint) RETURNS bigint LANGUAGE sql STABLE
            AS $$ SELECT count(*) FROM sales.orders WHERE customer_id = customer $$;
        CREATE PROCEDURE sales.archive(before date) LANGUAGE sql AS $$ DELETE FROM sales.events WHERE at < before $$;
        CREATE FUNCTION sales.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created_at := now(); RETURN NEW; END $$;
        CREATE TRIGGER orders_touch BEFORE UPDATE ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.touch();
        """;

    [Test]
    public async Task Every_kind_of_object_appears_with_its_definition()
    {
        var snapshot = await SchemaDatabase.BuildAndSnapshotAsync(SalesSchema);

        var definitions = snapshot.Objects.ToDictionary(item => (item.Kind, item.Name), item => item.Definition);
        Assert.Multiple(() =>
        {
            Assert.That(definitions[("schema", "sales")], Is.Empty);
            Assert.That(definitions[("extension", "plpgsql")], Is.EqualTo("version 1.0 schema pg_catalog"));
            Assert.That(definitions[("table", "sales.orders")], Is.Empty);
            Assert.That(definitions[("table", "sales.scratch")], Is.EqualTo("unlogged with (fillfactor=70)"));
            Assert.That(definitions[("table", "sales.events")], Is.EqualTo("partition by RANGE (at)"));
            Assert.That(
                definitions[("table", "sales.events_2024")],
                Is.EqualTo("partition of sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"));
            Assert.That(definitions[("column", "sales.orders.total")], Is.EqualTo("numeric(10,2) not null default 0"));
            Assert.That(definitions[("column", "sales.orders.id")], Is.EqualTo("integer not null default nextval('sales.orders_id_seq'::regclass)"));
            Assert.That(
                definitions[("column", "sales.orders.created_at")],
                Is.EqualTo("timestamp with time zone not null default '2024-01-01 00:00:00+00'::timestamp with time zone"));
            Assert.That(definitions[("column", "sales.orders.total_with_tax")], Is.EqualTo("numeric generated always as ((total * 1.2)) stored"));
            Assert.That(definitions[("column", "sales.customers.id")], Is.EqualTo("bigint not null generated always as identity"));
            Assert.That(definitions[("column", "sales.customers.name")], Is.EqualTo("text collate \"C\" not null"));
            Assert.That(definitions[("column", "sales.customers.mood")], Is.EqualTo("sales.mood"));
            Assert.That(
                definitions[("constraint", "sales.orders.orders_customer_id_fkey")],
                Is.EqualTo("FOREIGN KEY (customer_id) REFERENCES sales.customers(id)"));
            Assert.That(definitions[("constraint", "sales.orders.orders_total_check")], Is.EqualTo("CHECK ((total >= (0)::numeric))"));
            Assert.That(
                definitions[("index", "sales.orders_created_at_idx")],
                Is.EqualTo("CREATE INDEX orders_created_at_idx ON sales.orders USING btree (created_at DESC)"));
            Assert.That(definitions[("view", "sales.big_orders")], Does.Contain("FROM sales.orders").And.Contain("(orders.total > (100)::numeric)"));
            Assert.That(definitions[("materialized view", "sales.customer_totals")], Does.Contain("GROUP BY orders.customer_id"));
            Assert.That(
                definitions[("function", "sales.order_count(bigint)")],
                Does.StartWith("CREATE OR REPLACE FUNCTION sales.order_count(customer bigint)").And.Contain("WHERE customer_id = customer"));
            Assert.That(definitions[("procedure", "sales.archive(date)")], Does.StartWith("CREATE OR REPLACE PROCEDURE sales.archive(IN before date)"));
            Assert.That(
                definitions[("sequence", "sales.invoice_numbers")],
                Is.EqualTo("as integer start 1000 increment 10 min 1000 max 9999990 cache 1 cycle"));
            Assert.That(definitions[("sequence", "sales.customers_id_seq")], Is.EqualTo("as bigint start 1 increment 1 min 1 max 9223372036854775807 cache 1"));
            Assert.That(definitions[("enum type", "sales.mood")], Is.EqualTo("'happy', 'sad'"));
            Assert.That(
                definitions[("domain", "sales.amount")],
                Is.EqualTo("numeric(12,2) not null default 0 constraint positive CHECK ((VALUE >= (0)::numeric))"));
            Assert.That(definitions[("composite type", "sales.address")], Is.EqualTo("street text, city text"));
            Assert.That(
                definitions[("trigger", "sales.orders.orders_touch")],
                Is.EqualTo("CREATE TRIGGER orders_touch BEFORE UPDATE ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.touch()"));
        });
    }

    [Test]
    public async Task Two_databases_built_with_the_same_DDL_have_equal_hashes()
    {
        var first = await SchemaDatabase.BuildAndSnapshotAsync(SalesSchema);
        var second = await SchemaDatabase.BuildAndSnapshotAsync(SalesSchema);

        Assert.That(second.Hash, Is.EqualTo(first.Hash));
    }

    [Test]
    public async Task The_same_DDL_gives_the_same_text_whatever_the_OIDs_of_its_objects()
    {
        var first = await SchemaDatabase.BuildAndSnapshotAsync(SalesSchema);
        // Objects created and dropped first shift every OID of the second database.
        var second = await SchemaDatabase.BuildAndSnapshotAsync("CREATE TABLE filler (id int); DROP TABLE filler;", SalesSchema);

        Assert.That(second.ToCanonicalText(), Is.EqualTo(first.ToCanonicalText()));
    }

    [Test]
    public async Task A_column_dropped_and_added_again_differs_only_in_position_which_does_not_count()
    {
        var inOrder = await SchemaDatabase.BuildAndSnapshotAsync("CREATE TABLE t (a int, b text, c int);");
        var reordered = await SchemaDatabase.BuildAndSnapshotAsync(
            "CREATE TABLE t (a int, b text, c int);",
            "ALTER TABLE t DROP COLUMN b; ALTER TABLE t ADD COLUMN b text;");

        Assert.That(reordered.Hash, Is.EqualTo(inOrder.Hash));
    }

    [Test]
    public async Task The_history_schema_of_the_tool_is_left_out()
    {
        var snapshot = await SchemaDatabase.BuildAndSnapshotAsync(
            "CREATE SCHEMA migrationtasks; CREATE TABLE migrationtasks.history (id int PRIMARY KEY);",
            "CREATE TABLE public.orders (id int);");

        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Objects.Select(item => item.Name), Has.None.StartsWith("migrationtasks"));
            Assert.That(snapshot.Objects, Has.Some.EqualTo(new SchemaObject("table", "public.orders", "")));
        });
    }

    [Test]
    public async Task Schemas_of_the_options_are_left_out_instead_of_the_default()
    {
        var connectionString = await SchemaDatabase.BuildAsync(
            "CREATE SCHEMA migrationtasks; CREATE TABLE migrationtasks.history (id int);",
            "CREATE SCHEMA audit; CREATE TABLE audit.log (id int);");

        var snapshot = await SchemaDatabase.SnapshotAsync(connectionString, new SchemaSnapshotOptions { ExcludedSchemas = ["audit"] });

        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Objects.Select(item => item.Name), Has.None.StartsWith("audit"));
            Assert.That(snapshot.Objects, Has.Some.EqualTo(new SchemaObject("table", "migrationtasks.history", "")));
        });
    }

    [Test]
    public async Task Objects_of_an_extension_are_left_out_but_the_extension_and_its_version_are_in()
    {
        var connectionString = await SchemaDatabase.BuildAsync();
        if (!await IsExtensionAvailableAsync(connectionString, "citext"))
        {
            Assert.Ignore("The citext extension (PostgreSQL contrib) is not installed.");
        }

        await SchemaDatabase.RunAsync(connectionString, "CREATE EXTENSION citext; CREATE TABLE users (email citext);");
        var snapshot = await SchemaDatabase.SnapshotAsync(connectionString);

        Assert.That(snapshot.Objects, Has.Some.Matches<SchemaObject>(item => item.Kind == "extension" && item.Name == "citext"));
        Assert.That(snapshot.Objects.Where(item => item.Kind != "extension"), Is.EquivalentTo(new[]
        {
            new SchemaObject("schema", "public", ""),
            new SchemaObject("table", "public.users", ""),
            new SchemaObject("column", "public.users.email", "public.citext"),
        }));
    }

    private static async Task<bool> IsExtensionAvailableAsync(string connectionString, string extension)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_available_extensions WHERE name = @name", connection);
        command.Parameters.AddWithValue("name", extension);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }
}
