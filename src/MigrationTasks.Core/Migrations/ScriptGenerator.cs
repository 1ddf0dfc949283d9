using MigrationTasks.Engines;

namespace MigrationTasks.Migrations;

/// <summary>
/// A script generated from a database's current state (SQL Server: DacFx's deploy script of the dacpac against it),
/// which the runner applies like one more repeatable migration.
/// </summary>
public delegate Task<(MigrationFile File, PreparedScript Script)> ScriptGenerator(ITargetDatabase database, CancellationToken cancellationToken);
