namespace MigrationTasks.Schema;

public static class SchemaDiff
{
    /// <summary>The objects that are missing, unexpected or changed in <paramref name="actual"/>, sorted by name and kind.</summary>
    public static IReadOnlyList<SchemaDifference> Compare(SchemaSnapshot expected, SchemaSnapshot actual)
    {
        var actualByKey = actual.Objects.ToDictionary(item => (item.Kind, item.Name));
        var expectedKeys = expected.Objects.Select(item => (item.Kind, item.Name)).ToHashSet();
        var differences = new List<SchemaDifference>();
        foreach (var wanted in expected.Objects)
        {
            if (!actualByKey.TryGetValue((wanted.Kind, wanted.Name), out var found))
            {
                differences.Add(new SchemaDifference(wanted.Kind, wanted.Name, SchemaChange.Missing, wanted.Definition, null));
            }
            else if (found.Definition != wanted.Definition)
            {
                differences.Add(new SchemaDifference(wanted.Kind, wanted.Name, SchemaChange.Changed, wanted.Definition, found.Definition));
            }
        }

        differences.AddRange(actual.Objects
            .Where(found => !expectedKeys.Contains((found.Kind, found.Name)))
            .Select(found => new SchemaDifference(found.Kind, found.Name, SchemaChange.Unexpected, null, found.Definition)));
        return differences
            .OrderBy(difference => difference.Name, StringComparer.Ordinal)
            .ThenBy(difference => difference.Kind, StringComparer.Ordinal)
            .ToList();
    }
}
