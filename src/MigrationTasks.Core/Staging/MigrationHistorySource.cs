using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;

namespace MigrationTasks.Staging;

/// <summary>
/// The staging gate of a migrations project: pending = the migrations staging's history lacks; drift = staging's
/// schema against what its applied migrations build on an empty shadow database.
/// </summary>
public sealed class MigrationHistorySource(IMigrationEngine engine, Reporter reporter, IReadOnlyList<string> migrationPaths, string stateDirectory) : IStagingSource
{
    public async Task<StagingPlan> PlanAsync(ITargetDatabase staging, CancellationToken cancellationToken)
    {
        var migrations = MigrationSource.Prepare(engine, migrationPaths);
        var history = await staging.ReadHistoryAsync(cancellationToken);
        var plan = MigrationPlanner.Plan(migrations, history);
        reporter.Report(plan.Warnings);
        var pendingFiles = plan.Pending.Select(p => p.File).ToHashSet();
        var applied = migrations.Where(m => m.File.Kind != MigrationKind.Undo && !pendingFiles.Contains(m.File)).ToList();
        return new StagingPlan(
            [.. applied.Where(m => m.File.Version is not null).Select(m => m.File.Version!.Canonical)],
            plan.Pending,
            await DriftAsync(staging, applied, cancellationToken),
            "what its applied migrations produce");
    }

    /// <summary>Builds, on a shadow, what staging's applied history should have produced and compares schemas.</summary>
    private async Task<IReadOnlyList<string>> DriftAsync(
        ITargetDatabase staging,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> applied,
        CancellationToken cancellationToken)
    {
        var (shadow, reason) = await Shadow.TryOpenAsync(engine, staging, Path.Combine(stateDirectory, "staging-shadow"), cancellationToken);
        if (shadow is null)
        {
            reporter.Report(Diagnostic.Warning(DiagnosticCodes.NoShadowDatabase, $"drift detection skipped: {reason}."));
            return [];
        }

        SchemaSnapshot expected;
        await using (shadow)
        {
            // Quiet: the shadow's progress lines would bury the findings; its failures still throw.
            await new MigrationRunner(new Reporter(TextWriter.Null))
                .DeployAsync(shadow.Database, applied, ApplyContext.ForThisMachine(), MigrationRunner.DefaultLockWait, cancellationToken);
            expected = await shadow.Database.ReadSchemaAsync(cancellationToken);
        }

        var actual = await staging.ReadSchemaAsync(cancellationToken);
        return [.. SchemaDiff.Compare(expected, actual).Select(d => d.ToString())];
    }
}
