using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;
using Microsoft.SqlServer.Dac;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// The offline plan of a SQL Server release: DacFx's deploy script and deploy report of the project's dacpac against
/// production's baseline dacpac (no server), the script as plain batches, and the report's alerts as findings that
/// name the object and the Schema/ file defining it (the baseline for an object only production has):
/// MIG4010 a table or column dropped, MIG4011 a narrowing type change (both data loss: errors unless
/// MigrationAllowDataLoss), MIG4012 a table rebuild, MIG4013 a NOT NULL column without default added to an existing
/// table, MIG4014 any other alert.
/// </summary>
/// <remarks>
/// Options, and why: BlockOnPossibleDataLoss unless data loss is allowed (DacFx then also puts a guard in the script
/// that stops the deploy on a table with rows). DropObjectsNotInSource is on, because Schema/ is the whole desired
/// state: an object deleted from Schema/ is dropped from production (a table's drop is a MIG4010 finding). Users,
/// logins, permissions and role memberships are never dropped: production manages them outside the project; nor is
/// MigrationTasks' own history schema (see <see cref="HistorySchemaKeeper"/>).
/// Database options and compatibility level are not scripted (they belong to the server's administrators).
/// </remarks>
public sealed partial class SqlServerPlanner(Reporter reporter)
{
    public DeployPlan Plan(DeployPlanOptions options)
    {
        var platform = options.Platform ?? SqlServerPlatform.Default;
        var work = Path.Combine(Path.GetTempPath(), "migrationtasks-plan", Guid.NewGuid().ToString("N"));
        try
        {
            return Plan(options, platform, work);
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private DeployPlan Plan(DeployPlanOptions options, SqlServerPlatform platform, string work)
    {
        using var project = Load(options.Dacpac, DiagnosticCodes.ModelMissing, "the project's dacpac", "Build the project first; fix the errors that left no dacpac.");
        using var baseline = Load(options.BaselineDacpac, DiagnosticCodes.BaselineModelUnreadable, "the MigrationBaseline dacpac", "Export it again from production.");
        var withHistory = HistorySchemaKeeper.SourceFor(options.Dacpac, options.BaselineDacpac, work, platform);
        using var copy = withHistory == options.Dacpac ? null : Load(withHistory, DiagnosticCodes.DeployPlanFailed, "the project's dacpac with production's history schema", "");
        var source = copy ?? project;
        var deployOptions = DeployOptions(options.AllowDataLoss);
        string script, reportXml;
        try
        {
            // One comparison for both (GenerateDeployScript and GenerateDeployReport would each compare the models).
            var result = DacServices.Script(source, baseline, options.DatabaseName, new PublishOptions
            {
                DeployOptions = deployOptions,
                GenerateDeploymentScript = true,
                GenerateDeploymentReport = true,
            });
            script = result.DatabaseScript;
            reportXml = result.DeploymentReport;
        }
        catch (Exception e) when (e is DacServicesException or DacModelException or InvalidOperationException)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.DeployPlanFailed,
                $"DacFx cannot compare the project's dacpac with the baseline: {e.Message}",
                options.BaselineDacpac));
        }

        DeployReport report;
        try
        {
            report = DeployReport.Parse(reportXml);
        }
        catch (Exception e) when (e is System.Xml.XmlException or InvalidDataException)
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.DeployPlanFailed, $"DacFx's deploy report cannot be read: {e.Message}", options.BaselineDacpac));
        }

        var findings = Findings(report, options);
        var (_, batches) = DeployScriptBatches.ToBatches(script, options.DatabaseName, options.Dacpac, platform);
        reporter.Info($"Deploy plan against {options.BaselineDacpac}: {Summary(report)}; {batches.Count} batch(es); {findings.Count} finding(s).");
        return new DeployPlan(script, reportXml, report, batches, findings);
    }

    /// <summary>
    /// The dacpac to plan against: MigrationBaseline, which must be a dacpac (MIG5020), or without one an empty
    /// model, for a release to an empty database.
    /// </summary>
    public static string BaselineOrEmpty(string? baseline, string stateDirectory, string databaseName, SqlServerPlatform? platform) => baseline switch
    {
        null or "" => EmptyBaseline(stateDirectory, databaseName, platform),
        _ when baseline.EndsWith(".dacpac", StringComparison.OrdinalIgnoreCase) => baseline,
        _ => throw new DiagnosticException(Diagnostic.Error(
            DiagnosticCodes.BaselineModelUnreadable, "MigrationBaseline must be a .dacpac of the production database for MigrationEngine SqlServer.", baseline)),
    };

    /// <summary>A dacpac with no objects, in the state folder: what an empty database looks like to DacFx.</summary>
    private static string EmptyBaseline(string stateDirectory, string databaseName, SqlServerPlatform? platform)
    {
        var path = Path.Combine(Path.GetFullPath(stateDirectory), "empty-database.dacpac");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var model = new TSqlModel((platform ?? SqlServerPlatform.Default).Version, new TSqlModelOptions());
        DacPackageExtensions.BuildPackage(path, model, new PackageMetadata { Name = databaseName }, new PackageOptions());
        return path;
    }

    /// <summary>The options of <see cref="Plan"/>, documented on the class.</summary>
    public static DacDeployOptions DeployOptions(bool allowDataLoss) => new()
    {
        BlockOnPossibleDataLoss = !allowDataLoss,
        DropObjectsNotInSource = true,
        DoNotDropObjectTypes =
        [
            ObjectType.Users, ObjectType.Logins, ObjectType.RoleMembership, ObjectType.Permissions, ObjectType.Credentials,
            ObjectType.DatabaseScopedCredentials, ObjectType.ServerRoleMembership, ObjectType.ServerRoles,
            ObjectType.LinkedServerLogins, ObjectType.LinkedServers,
        ],
        ScriptDatabaseOptions = false,
        ScriptDatabaseCompatibility = false,
        CommentOutSetVarDeclarations = false,
        IncludeTransactionalScripts = false,
        GenerateSmartDefaults = false,
    };

    /// <summary>The report's alerts and table rebuilds as findings, in the report's order.</summary>
    private static List<Diagnostic> Findings(DeployReport report, DeployPlanOptions options)
    {
        // Modelling Schema/ again costs seconds on a large project: only when there is a finding to place.
        var definitions = new Lazy<Dictionary<string, SourceInformation>>(() => Definitions(options));
        var findings = new List<Diagnostic>();
        var alerts = report.Operations.SelectMany(o => o.Issues.Select(i => (Alert: i, Operation: (DeployOperation?)o)))
            .Concat(report.UnattachedAlerts.Select(a => (Alert: a, Operation: (DeployOperation?)null)))
            .DistinctBy(a => a.Alert.Message);
        foreach (var (alert, operation) in alerts)
        {
            var names = QualifiedName().Matches(alert.Message).Select(m => m.Value).ToList();
            // "The type for column Name in table [dbo].[T] is currently…": the column is the subject.
            if (ColumnInTable().Match(alert.Message) is { Success: true } typeChange)
            {
                names.Insert(0, $"{typeChange.Groups["table"].Value}.[{typeChange.Groups["column"].Value}]");
            }

            var subject = names.FirstOrDefault() ?? operation?.Name ?? "";
            var (code, dataLoss, advice) = Classify(alert.Message);
            var (file, line, column) = Locate(names.Append(operation?.Name ?? ""), definitions.Value, options.BaselineDacpac);
            var message = $"{Describe(code)} {subject}: {Tidy(alert.Message)} {advice}";
            findings.Add(new Diagnostic(Severity(dataLoss, options), code, message, file, line, column));
        }

        foreach (var rebuild in report.Operations.Where(o => o.Kind.Equals("TableRebuild", StringComparison.OrdinalIgnoreCase)))
        {
            var (file, line, column) = Locate([rebuild.Name], definitions.Value, options.BaselineDacpac);
            findings.Add(new Diagnostic(
                Severity(false, options),
                DiagnosticCodes.TableRebuild,
                $"table rebuild {rebuild.Name}: DacFx cannot alter it in place, so the deploy creates a new table, copies every row into it and renames it; " +
                "slow and locking on a large table. Alter the table so that it can change in place (e.g. add new columns last), or plan the window for it.",
                file,
                line,
                column));
        }

        return findings;
    }

    private static (string Code, bool DataLoss, string Advice) Classify(string message) => message switch
    {
        _ when message.Contains("is being dropped", StringComparison.OrdinalIgnoreCase) =>
            (DiagnosticCodes.DataLossDrop, true, "Keep it in Schema/, or set MigrationAllowDataLoss=true to drop it and its data knowingly."),
        _ when message.Contains("is currently", StringComparison.OrdinalIgnoreCase) && message.Contains("being changed to", StringComparison.OrdinalIgnoreCase) =>
            (DiagnosticCodes.DataLossNarrowing, true, "Keep a type every row fits, or clean the data first and set MigrationAllowDataLoss=true."),
        _ when message.Contains("no default value and does not allow NULL", StringComparison.OrdinalIgnoreCase) =>
            (DiagnosticCodes.NotNullWithoutDefault, false, "The deploy fails if the table has rows: add a default, allow NULL, or add it in steps."),
        _ => (DiagnosticCodes.DeployAlert, false, "Read it before deploying."),
    };

    private static string Describe(string code) => code switch
    {
        DiagnosticCodes.DataLossDrop => "data loss:",
        DiagnosticCodes.DataLossNarrowing => "data loss (narrowing type):",
        DiagnosticCodes.NotNullWithoutDefault => "NOT NULL column without default on an existing table:",
        _ => "deploy alert:",
    };

    private static DiagnosticSeverity Severity(bool dataLoss, DeployPlanOptions options) =>
        (dataLoss && !options.AllowDataLoss) || options.FindingsAsErrors ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;

    // DacFx pads type names with two spaces ("is currently  NVARCHAR (200)").
    private static string Tidy(string message) => Regex.Replace(message.Trim(), @"\s{2,}", " ");

    /// <summary>
    /// Where the first name that the project defines (or whose table it defines) is defined; an object only the
    /// baseline has is placed on the baseline dacpac.
    /// </summary>
    private static (string File, int Line, int Column) Locate(IEnumerable<string> names, Dictionary<string, SourceInformation> definitions, string baseline)
    {
        foreach (var candidate in names.Where(n => n.Length > 0))
        {
            var name = candidate;
            while (true)
            {
                if (definitions.TryGetValue(name, out var source))
                {
                    return (source.SourceName, source.StartLine, source.StartColumn);
                }

                var lastPart = name.LastIndexOf(".[", StringComparison.Ordinal);
                if (lastPart <= 0)
                {
                    break;
                }

                name = name[..lastPart];
            }
        }

        return (baseline, 0, 0);
    }

    /// <summary>
    /// Every object of Schema/ by its full name, with the file and line that define it. The dacpac keeps no source
    /// positions, so the files are modelled again (about a second); without them findings name the object only.
    /// </summary>
    private static Dictionary<string, SourceInformation> Definitions(DeployPlanOptions options)
    {
        var definitions = new Dictionary<string, SourceInformation>(StringComparer.OrdinalIgnoreCase);
        if (options.SchemaFiles.Count == 0)
        {
            return definitions;
        }

        using var model = new TSqlModel((options.Platform ?? SqlServerPlatform.Default).Version, new TSqlModelOptions { StorageType = DacSchemaModelStorageType.Memory });
        foreach (var path in options.SchemaFiles.Distinct(StringComparer.Ordinal))
        {
            try
            {
                model.AddOrUpdateObjects(File.ReadAllText(path), path, new TSqlObjectOptions());
            }
            catch (Exception e) when (e is DacModelException or IOException or UnauthorizedAccessException)
            {
                // The build already reported it; this model only places findings.
            }
        }

        foreach (var element in model.GetObjects(DacQueryScopes.UserDefined))
        {
            var name = element.Name.ToString();
            if (name.Length > 0 && element.GetSourceInformation() is { SourceName.Length: > 0 } source)
            {
                definitions.TryAdd(name, source);
                foreach (var child in element.GetChildren(DacQueryScopes.UserDefined))
                {
                    if (child.Name.ToString() is { Length: > 0 } childName && child.GetSourceInformation() is { SourceName.Length: > 0 } childSource)
                    {
                        definitions.TryAdd(childName, childSource);
                    }
                }
            }
        }

        return definitions;
    }

    private static DacPackage Load(string path, string code, string what, string advice)
    {
        try
        {
            return DacPackage.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DacServicesException or InvalidOperationException or ArgumentException)
        {
            throw new DiagnosticException(Diagnostic.Error(code, $"{what} cannot be read: {e.Message} {advice}", path));
        }
    }

    private static string Summary(DeployReport report)
    {
        var counts = report.Operations.GroupBy(o => o.Kind).Select(g => $"{g.Count()} {g.Key.ToLowerInvariant()}");
        return report.Operations.Count == 0 ? "no change" : string.Join(", ", counts);
    }

    [GeneratedRegex(@"column (?<column>\w+) in table (?<table>\[(?:[^\]]|\]\])*\]\.\[(?:[^\]]|\]\])*\])")]
    private static partial Regex ColumnInTable();

    // [a].[b].[c], where a part may hold ']]'.
    [GeneratedRegex(@"\[(?:[^\]]|\]\])*\](?:\.\[(?:[^\]]|\]\])*\])*")]
    private static partial Regex QualifiedName();
}
