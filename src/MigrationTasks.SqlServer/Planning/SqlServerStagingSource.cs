using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.Staging;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// The staging gate of a SQL Server project. Staging should be what production is: the MigrationBaseline dacpac (an
/// empty database without one). Drift is every object whose name staging and the baseline do not share (the catalog
/// fingerprint's kinds: a changed definition shows in the rehearsal, not here, since the server rewrites definitions).
/// What a deploy would run is the release's own script: DacFx's plan of the dacpac against the baseline, the one
/// the package step writes, rehearsed on staging's data. When staging already holds Schema/'s objects and not the
/// baseline's, this release is on it already and nothing is rehearsed. A release that only changes definitions cannot
/// be told from its baseline by names, so it is rehearsed again on a staging that has it (harmless: it is rolled back).
/// </summary>
public sealed class SqlServerStagingSource(Reporter reporter, SqlServerStagingSource.Options options) : IStagingSource
{
    /// <param name="Dacpac">The dacpac <c>dotnet build</c> wrote from Schema/.</param>
    /// <param name="BaselineDacpac">MigrationBaseline, or null for a release to an empty database.</param>
    /// <param name="DatabaseName">MigrationDatabaseName, the package's <c>$(DatabaseName)</c>: the rehearsal plans with staging's own name in its place.</param>
    /// <param name="WorkDirectory">The state folder: the script to rehearse is written there, so that a failure points at a file and line.</param>
    public sealed record Options(string Dacpac, string? BaselineDacpac, string DatabaseName, bool AllowDataLoss, SqlServerPlatform Platform, string WorkDirectory);

    public async Task<StagingPlan> PlanAsync(ITargetDatabase staging, CancellationToken cancellationToken)
    {
        var baseline = SqlServerPlanner.BaselineOrEmpty(options.BaselineDacpac, options.WorkDirectory, options.DatabaseName, options.Platform);
        var basis = options.BaselineDacpac is null ? "an empty database (no MigrationBaseline)" : $"the MigrationBaseline dacpac {Path.GetFileName(baseline)}";
        var live = Names((await staging.ReadSchemaAsync(cancellationToken)).Objects.Select(o => (o.Kind, o.Name)));
        var expected = Names(DacpacCatalog.Objects(baseline, DiagnosticCodes.BaselineModelUnreadable));
        var desired = Names(DacpacCatalog.Objects(options.Dacpac, DiagnosticCodes.ModelMissing));
        if (live.SetEquals(desired) && !desired.SetEquals(expected))
        {
            reporter.Info($"{staging.DisplayName} already holds the objects of Schema/ and not the baseline's: this release is on it already, nothing to rehearse.");
            return new StagingPlan([], [], [], basis);
        }

        // Planned with staging's own name where the package has MigrationDatabaseName: a script that names its
        // database ([Shop]) must name staging's on staging, or the rehearsal would change the database it names.
        // Only that name differs from the packaged script. SchemaFiles are not given: the package step places
        // findings in files; here only the script is needed.
        var plan = new SqlServerPlanner(reporter).Plan(new DeployPlanOptions(
            options.Dacpac, baseline, staging.Name, [], options.AllowDataLoss, FindingsAsErrors: false, options.Platform));
        var named = SchemaDeployScript.NamedDatabase(SchemaDeployScript.Text(plan.Batches), staging.Name);
        if (named is not null)
        {
            reporter.Info($"The release's script names its database: rehearsed with staging's name [{named}] where the package has [{options.DatabaseName}].");
        }

        var drift = options.BaselineDacpac is null && live.Count > 0
            ? [$"staging holds {live.Count} object(s) (e.g. {live.Order(StringComparer.OrdinalIgnoreCase).First()}) but the release expects an empty database: " +
               "set MigrationBaseline to a dacpac of production (dotnet migrate.dll baseline --engine SqlServer --out production.dacpac)"]
            : Drift(expected, live);
        // Even without a schema change the script runs the pre- and post-deployment scripts: rehearse whatever it holds.
        if (plan.Batches.Count == 0)
        {
            return new StagingPlan([], [], drift, basis);
        }

        var (file, script) = SchemaDeployScript.FromPlan(
            plan,
            $"the release's deploy script: DacFx's plan of {Path.GetFileName(options.Dacpac)} against {basis}, rehearsed on {staging.DisplayName}",
            new SchemaDeployScript.Options(options.Dacpac, options.AllowDataLoss, options.Platform, options.WorkDirectory),
            reporter);
        // A copy of staging has another name: a script that names its database would change staging itself there.
        var notRehearsed = named is not null && !script.InTransaction
            ? $"the release's script names its database and holds {script.OutsideTransactionReason}, which cannot run in a transaction; " +
              "on a copy of staging it would still change the database it names, staging itself"
            : null;
        return new StagingPlan([], [new MigrationStep(file, script)], drift, basis, notRehearsed);
    }

    /// <summary>
    /// "kind name" lines of the catalog fingerprint's kinds: the same whether read live or from a dacpac. Compared
    /// without case, as SQL Server (under its usual collations) and DacFx compare names.
    /// </summary>
    internal static HashSet<string> Names(IEnumerable<(string Kind, string Name)> objects) =>
        objects.Where(o => CatalogFingerprint.Kinds.Contains(o.Kind)).Select(o => $"{o.Kind} {o.Name}").ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Each object only staging has, then each only the baseline has, in name order.</summary>
    internal static IReadOnlyList<string> Drift(IReadOnlySet<string> expected, IReadOnlySet<string> live) =>
    [
        .. live.Except(expected, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).Select(o => $"{o} is on staging and not in the baseline"),
        .. expected.Except(live, StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).Select(o => $"{o} is in the baseline and not on staging"),
    ];
}
