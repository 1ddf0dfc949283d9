using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.SqlServer.Engine;

namespace MigrationTasks.Cli;

/// <summary>
/// The engines this CLI ships, by their <c>MigrationEngine</c> name: the one place that names their types. Everything
/// else asks the engine (<see cref="IMigrationEngine"/>) what differs, never tests which one it is.
/// </summary>
internal static class EngineCatalog
{
    /// <summary>The CLI's engine when none is given: the targets' <c>MigrationEngine</c> default (build/MigrationTasks.targets).</summary>
    public const string DefaultName = SqlServerEngine.EngineName;

    private static readonly Func<IMigrationEngine>[] Factories = [() => new SqlServerEngine(), () => new PostgresEngine()];

    /// <summary>Every engine's name, as <c>--engine</c> takes it.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Factories.Select(f => f().Name)];

    /// <summary>The engine of that name (case ignored), or null when there is none.</summary>
    public static IMigrationEngine? Find(string name) =>
        Factories.Select(f => f()).FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}
