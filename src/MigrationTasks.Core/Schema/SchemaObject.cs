namespace MigrationTasks.Schema;

/// <summary>One object of a schema snapshot.</summary>
/// <param name="Kind">What it is: "table", "column", "index", "function", ...</param>
/// <param name="Name">Its schema-qualified name, e.g. <c>public.orders</c>, <c>public.orders.total</c>, <c>public.f(integer)</c>.</param>
/// <param name="Definition">Its canonical definition; two objects with equal definitions are the same object.</param>
public sealed record SchemaObject(string Kind, string Name, string Definition);
