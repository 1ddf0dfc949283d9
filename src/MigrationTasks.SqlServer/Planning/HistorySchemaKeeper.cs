using System.IO.Packaging;
using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;
using Microsoft.SqlServer.Dac;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// Production keeps MigrationTasks' history in the schema <c>migrationtasks</c>, which a baseline exported from it
/// holds and Schema/ does not. The plan drops objects that are not in Schema/ (DropObjectsNotInSource), so, when the
/// baseline has that schema, its objects are added to a copy of the project's dacpac: the deploy leaves them alone.
/// DacFx filters differences by object type only, never by schema, hence the copy.
/// </summary>
public static class HistorySchemaKeeper
{
    public const string SchemaName = "migrationtasks";

    /// <summary>
    /// The dacpac to plan from: <paramref name="dacpac"/> itself when the baseline has no history schema, else a copy
    /// (in <paramref name="workDirectory"/>) that also holds the baseline's history objects.
    /// </summary>
    public static string SourceFor(string dacpac, string baseline, string workDirectory, SqlServerPlatform platform)
    {
        // Nothing to add when the baseline has no history, or the dacpac has it already (a dev deploy's copy).
        if (!HasHistorySchema(baseline, DiagnosticCodes.BaselineModelUnreadable, "the MigrationBaseline dacpac") || HasHistorySchema(dacpac, DiagnosticCodes.ModelMissing, "the project's dacpac"))
        {
            return dacpac;
        }

        using var production = TSqlModel.LoadFromDacpac(baseline, new ModelLoadOptions(DacSchemaModelStorageType.Memory, loadAsScriptBackedModel: false));
        var scripts = production.GetObjects(DacQueryScopes.UserDefined)
            .Where(o => InHistorySchema(o))
            .Select(o => o.TryGetScript(out var script) ? script : null)
            .OfType<string>()
            .ToList();
        return scripts.Count == 0 ? dacpac : WithObjects(dacpac, scripts, workDirectory, "with-history");
    }

    /// <summary>
    /// The dacpac to deploy to a live database that MigrationTasks may have recorded history in (the dev database):
    /// a copy of <paramref name="dacpac"/> that also holds the history table and its unique index as MigrationTasks
    /// creates them, and the deploys table when the database has one (<paramref name="withDeploysTable"/>: the
    /// production runner made it), so that the plan neither drops, alters nor creates any of them.
    /// </summary>
    internal static string WithLiveHistory(string dacpac, string workDirectory, bool withDeploysTable) =>
        WithObjects(dacpac, Live.SqlServerHistory.ModelScriptsFor(withDeploysTable), workDirectory, "with-live-history");

    private static string WithObjects(string dacpac, IReadOnlyList<string> scripts, string workDirectory, string suffix)
    {
        using var project = TSqlModel.LoadFromDacpac(dacpac, new ModelLoadOptions(DacSchemaModelStorageType.Memory, loadAsScriptBackedModel: true));
        project.AddOrUpdateObjects(string.Join("\nGO\n", scripts), "migrationtasks-history.sql", new TSqlObjectOptions());
        Directory.CreateDirectory(workDirectory);
        var copy = Path.Combine(workDirectory, $"{Path.GetFileNameWithoutExtension(dacpac)}.{suffix}.dacpac");
        using var source = DacPackage.Load(dacpac);
        DacPackageExtensions.BuildPackage(copy, project, new PackageMetadata { Name = source.Name }, new PackageOptions());
        CopyDeploymentScripts(dacpac, copy);
        return copy;
    }

    private static bool InHistorySchema(TSqlObject element) =>
        element.Name.Parts.Count > 0 && element.Name.Parts[0].Equals(SchemaName, StringComparison.OrdinalIgnoreCase)
        || (element.ObjectType == Microsoft.SqlServer.Dac.Model.Schema.TypeClass && element.Name.Parts is [var name] && name.Equals(SchemaName, StringComparison.OrdinalIgnoreCase));

    private static bool HasHistorySchema(string dacpac, string code, string what) =>
        ModelText(dacpac, code, what).Contains($"[{SchemaName}]", StringComparison.OrdinalIgnoreCase);

    private static string ModelText(string dacpac, string code, string what)
    {
        try
        {
            using var package = Package.Open(dacpac, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var reader = new StreamReader(package.GetPart(new Uri("/model.xml", UriKind.Relative)).GetStream());
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            throw new DiagnosticException(Diagnostic.Error(code, $"{what} cannot be read: {e.Message}", dacpac));
        }
    }

    /// <summary>The pre- and post-deployment scripts travel with the copy, as they are parts BuildPackage does not write.</summary>
    private static void CopyDeploymentScripts(string from, string to)
    {
        using var source = Package.Open(from, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var target = Package.Open(to, FileMode.Open, FileAccess.ReadWrite);
        foreach (var name in new[] { "/predeploy.sql", "/postdeploy.sql" })
        {
            var uri = new Uri(name, UriKind.Relative);
            if (source.PartExists(uri) && !target.PartExists(uri))
            {
                using var input = source.GetPart(uri).GetStream();
                using var output = target.CreatePart(uri, "text/plain").GetStream();
                input.CopyTo(output);
            }
        }
    }
}
