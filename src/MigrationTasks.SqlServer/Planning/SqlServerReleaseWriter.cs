using System.Text;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// The <c>package</c> step for SQL Server: <c>release/</c> with the deploy script DacFx generates against
/// MigrationBaseline (a dacpac of production), as plain batches (<c>migrations/R__deploy.sql</c>: a repeatable
/// script, because each release's script is the difference from production to Schema/ and runs once per change),
/// DacFx's deploy report, the baseline and the project dacpacs, Checks/, Verify/, plan.md; then the runner beside
/// release/, manifest.json and its signature, written and later verified by the same code as for PostgreSQL.
/// Expected pre-state: the baseline dacpac's model hash (see <see cref="DacpacModelHash"/>) and its catalog
/// fingerprint (<see cref="DacpacCatalog"/>), which the deploy compares with production's catalog; post-state: the
/// same two of the project's dacpac. A data-loss finding stops the package unless MigrationAllowDataLoss=true, and
/// the manifest records <c>allowDataLoss</c>.
/// </summary>
public sealed class SqlServerReleaseWriter(Reporter reporter)
{
    public const string DeployScriptName = SchemaDeployScript.FileName;
    public const string DeployReportName = "deploy-report.xml";
    public const string BaselineDacpacName = "baseline.dacpac";
    public const string DacpacName = "project.dacpac";

    /// <summary>The manifest, or null when a finding is an error (then no release folder is left behind).</summary>
    public ReleaseManifest? Write(SqlServerReleaseOptions options)
    {
        var release = options.Release;
        var emptyDatabase = string.IsNullOrEmpty(release.BaselinePath);
        if (emptyDatabase)
        {
            reporter.Info("No MigrationBaseline: the release expects an empty database and creates every object. For an existing production " +
                          "database, set MigrationBaseline to a dacpac of it.");
        }

        release = release with { BaselinePath = SqlServerPlanner.BaselineOrEmpty(release.BaselinePath, release.StateDirectory, options.DatabaseName, options.Platform) };

        using var certificate = ReleaseFolderWriter.LoadSigningCertificate(release.SigningCertificate);

        var plan = new SqlServerPlanner(reporter).Plan(new DeployPlanOptions(
            options.Dacpac, release.BaselinePath!, options.DatabaseName, options.SchemaFiles, options.AllowDataLoss, options.FindingsAsErrors, options.Platform));
        reporter.Report(plan.Findings);
        var folder = ReleaseFolderWriter.Clear(release.PublishDirectory, create: !plan.HasErrors);
        if (plan.HasErrors)
        {
            reporter.Info($"No release package: {plan.Findings.Count(f => f.IsError)} finding(s) are errors.");
            return null;
        }

        var deployScript = $"{ReleaseLayout.MigrationsFolder}/{DeployScriptName}";
        var header = $"-- {release.PackageId} {release.Version}: DacFx's deploy script against {(emptyDatabase ? "an empty database" : Path.GetFileName(release.BaselinePath))}, as plain T-SQL batches " +
                     $"(allowDataLoss: {(options.AllowDataLoss ? "true" : "false")}).\n";
        var (text, prepared, outsideTransaction) = SchemaDeployScript.Prepare(
            Path.Combine(folder.Directory, ReleaseLayout.MigrationsFolder, DeployScriptName), header, SchemaDeployScript.Text(plan.Batches), options.Platform ?? SqlServerPlatform.Default, reporter);
        folder.WriteText(deployScript, text, ReleaseFileRole.Migration);
        folder.WriteText(DeployReportName, plan.ReportXml, ReleaseFileRole.Plan);
        if (!emptyDatabase)
        {
            folder.Copy(release.BaselinePath!, BaselineDacpacName, ReleaseFileRole.Baseline);
        }

        folder.Copy(options.Dacpac, DacpacName, ReleaseFileRole.Model);
        var checks = folder.CopyAll(release.Checks, ReleaseLayout.ChecksFolder, ReleaseFileRole.Check);
        var verifies = folder.CopyAll(release.Verifies, ReleaseLayout.VerifyFolder, ReleaseFileRole.Verify);

        var manifest = new ReleaseManifest(
            ReleaseManifest.CurrentSchemaVersion,
            release.PackageId,
            release.Version,
            "SqlServer",
            ExpectedStateKind.CatalogFingerprint,
            DateTimeOffset.UtcNow,
            release.ProjectDirectory is null ? null : SourceRevision.Find(release.ProjectDirectory),
            emptyDatabase
                ? new ExpectedPreState(true, null, [], null, DatabaseName: SchemaDeployScript.NamedDatabase(text, options.DatabaseName))
                : new ExpectedPreState(
                    false,
                    BaselineDacpacName,
                    // A dacpac holds no migration history: production's is not compared.
                    null,
                    null,
                    DacpacCatalog.Fingerprint(release.BaselinePath!, DiagnosticCodes.BaselineModelUnreadable),
                    DacpacModelHash.Of(release.BaselinePath!, DiagnosticCodes.BaselineModelUnreadable),
                    SchemaDeployScript.NamedDatabase(text, options.DatabaseName)),
            new ExpectedPostState(
                null,
                DacpacCatalog.Fingerprint(options.Dacpac, DiagnosticCodes.ModelMissing),
                DacpacModelHash.Of(options.Dacpac, DiagnosticCodes.ModelMissing)),
            [],
            [],
            null,
            options.AllowDataLoss,
            release.StatementLockTimeout);

        folder.WriteText(ReleaseLayout.PlanName, PlanDocument(manifest, plan, prepared, outsideTransaction, checks, verifies), ReleaseFileRole.Plan);
        reporter.Info($"Release package: {folder.Directory}: {deployScript} ({plan.Batches.Count} batch(es)), {checks.Count} check(s), {verifies.Count} verification(s)" +
                      $"{(options.AllowDataLoss ? ", data loss allowed (MigrationAllowDataLoss=true)" : "")}.");
        return folder.Finish(manifest, release.RunnerDirectory, certificate, reporter);
    }

    private static string PlanDocument(
        ReleaseManifest manifest, DeployPlan plan, PreparedScript deployScript, string? outsideTransaction, IReadOnlyList<string> checks, IReadOnlyList<string> verifies)
    {
        var text = new StringBuilder()
            .AppendLine($"# Release plan: {manifest.PackageId} {manifest.Version}")
            .AppendLine()
            .AppendLine($"Made {manifest.Created:yyyy-MM-dd HH:mm} UTC for SqlServer, " +
                        (manifest.SourceRevision is { } revision ? $"from revision `{revision}`." : "outside version control."))
            .AppendLine()
            .AppendLine("## Expected state")
            .AppendLine()
            .AppendLine(manifest.ExpectedPreState.EmptyDatabase
                ? "- Before: **an empty database** (no MigrationBaseline was given)."
                : $"- Before: the model of `{BaselineDacpacName}` (MigrationBaseline), model hash `{manifest.ExpectedPreState.ModelHash}`.")
            .AppendLine($"- After: the model of `{DacpacName}` (Schema/), model hash `{manifest.ExpectedPostState?.ModelHash}`.")
            .AppendLine(manifest.ExpectedPreState.DatabaseName is { } named
                ? $"- Database: the script names `[{named}]` (MigrationDatabaseName): the deploy refuses a database of another name."
                : "- Database: the script does not name its database; it runs on whichever database the connection opens.")
            .AppendLine($"- Data loss: {(manifest.AllowDataLoss ? "**allowed** (MigrationAllowDataLoss=true): tables and columns may be dropped with their data." : "not allowed: the script stops before dropping data from a table with rows.")}")
            .AppendLine()
            .AppendLine($"## Operations ({plan.Report.Operations.Count})")
            .AppendLine();
        foreach (var operation in plan.Report.Operations)
        {
            text.AppendLine($"- {operation.Kind} {operation.Type} `{operation.Name}`");
        }

        text.AppendLine()
            .AppendLine($"## Findings ({plan.Findings.Count})")
            .AppendLine();
        if (plan.Findings.Count == 0)
        {
            text.AppendLine("None: no data loss, no table rebuild, no other alert of DacFx.");
        }

        foreach (var finding in plan.Findings)
        {
            text.AppendLine($"- {finding.Code} ({(finding.IsError ? "error" : "warning")}): {finding.Message}");
        }

        text.AppendLine()
            .AppendLine("## Steps")
            .AppendLine()
            .AppendLine("1. **Verify the package**: `dotnet migrate.dll verify --trust <signer>`.")
            .AppendLine($"2. **Pre-deployment checks**: {List(checks)}.")
            .AppendLine("3. **Backup**: always, before migrating: `BACKUP DATABASE … WITH COPY_ONLY, CHECKSUM`, proven by `RESTORE VERIFYONLY … WITH CHECKSUM`.")
            .AppendLine($"4. **Migrate**: `{ReleaseLayout.MigrationsFolder}/{DeployScriptName}`, {plan.Batches.Count} batch(es) in order, " +
                        $"{(outsideTransaction is null ? "in one transaction" : "outside a transaction, batch by batch: " + outsideTransaction)}; " +
                        $"`{DeployReportName}` is DacFx's report of it.")
            .AppendLine($"5. **Verify**: {List(verifies)}.")
            .AppendLine()
            .Append(RollbackPlan.Section(deployScript.Statements.Count, outsideTransaction, checks.Count, verifies.Count));
        return text.ToString().ReplaceLineEndings("\n");
    }

    private static string List(IReadOnlyList<string> paths) =>
        paths.Count == 0 ? "none in this release" : string.Join(", ", paths.Select(p => $"`{p}`"));
}
