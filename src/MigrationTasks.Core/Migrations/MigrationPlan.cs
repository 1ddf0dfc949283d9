using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;

namespace MigrationTasks.Migrations;

/// <summary>What a database still needs, worked out from its history before anything runs.</summary>
public sealed record MigrationPlan(IReadOnlyList<MigrationStep> Pending, IReadOnlyList<Diagnostic> Warnings);
