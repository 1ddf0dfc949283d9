using MigrationTasks.Migrations;

namespace MigrationTasks.Engines;

/// <summary>A migration to apply, from statement <see cref="FirstStatement"/> on (0 unless resuming).</summary>
public sealed record MigrationStep(MigrationFile File, PreparedScript Script, int FirstStatement = 0)
{
    public bool IsResume => FirstStatement > 0;
}
