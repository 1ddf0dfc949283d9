using System.Diagnostics;
using System.Globalization;
using MigrationTasks.Diagnostics;
using MigrationTasks.Migrations;
using MigrationTasks.SqlServer.Scripts;
using Microsoft.SqlServer.Dac;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>
/// Compiles <c>Schema/**/*.sql</c> into a dacpac with DacFx, offline, in this order: every file parsed with ScriptDom
/// (all syntax errors of all files, because DacFx stops at the first and then silently drops the broken object);
/// the DacFx model and its validation (unresolved references at the object's file and line); code analysis; NoWarn
/// and WarningsAsErrors. Any error leaves no dacpac behind, not even the previous build's. Otherwise the dacpac is
/// written with the pre- and post-deployment scripts inside, to a temporary name first so it is whole or absent.
/// Given a <see cref="SchemaModel"/> an earlier build left (the model server's), only the files that changed are
/// parsed and added again; everything after that runs as in a cold build, so the dacpac and the diagnostics are the same.
/// </summary>
public sealed class DacpacBuilder(Reporter reporter)
{
    // Where DacFx looks for the deployment scripts inside a dacpac (DacPackage.PreDeploymentScript reads them).
    private const string PreDeploymentPart = "/predeploy.sql";
    private const string PostDeploymentPart = "/postdeploy.sql";

    public DacpacBuildResult Build(DacpacBuildOptions options) => Build(options, kept: null);

    /// <param name="kept">
    /// The model of this project an earlier build left, for this platform; it is updated in place (and not disposed).
    /// Null: a new model, disposed at the end.
    /// </param>
    public DacpacBuildResult Build(DacpacBuildOptions options, SchemaModel? kept)
    {
        var stopwatch = Stopwatch.StartNew();
        var platform = options.Platform ?? SqlServerPlatform.Default;
        if (kept is not null && (kept.Platform.Name != platform.Name || !kept.Usable))
        {
            throw new ArgumentException("the kept model is of another platform, or DacFx refused a file of it", nameof(kept));
        }

        using var created = kept is null ? new SchemaModel(platform) : null;
        var schemaModel = kept ?? created!;
        var found = new List<Diagnostic>();

        var schemaFiles = options.SchemaFiles.Select(f => SourcePath.Resolve(f, found)).Distinct(StringComparer.Ordinal).ToList();
        var phases = new PhaseTimes();
        var schema = ReadAndParse(schemaModel, schemaFiles, found);
        phases.End("read and parse");
        var variables = SqlCmdVariables(options);
        var preDeployment = ExpandAndParse(platform, options.PreDeploymentScript, variables, found);
        var postDeployment = ExpandAndParse(platform, options.PostDeploymentScript, variables, found);
        if (found.Any(d => d.IsError))
        {
            return Finish(options, found, written: false);
        }

        if (MissingCultureData() is { } noCultures)
        {
            return Finish(options, [.. found, noCultures], written: false);
        }

        var refused = schemaModel.Update(schema);
        var model = schemaModel.Model;
        phases.End("model");

        found.AddRange(SchemaModelProblems.FromModelErrors(model));
        if (refused is not null && !found.Any(d => d.IsError))
        {
            // Never build from a model that silently lacks the refused file and every one after it.
            found.Add(refused);
        }
        if (!found.Any(d => d.IsError))
        {
            found.AddRange(SchemaModelProblems.FromValidation(model));
        }

        phases.End("validation");

        // Code analysis needs a model without errors: DacFx's analysis fails on one.
        if (!found.Any(d => d.IsError))
        {
            try
            {
                found.AddRange(SchemaCodeAnalysis.Run(model, options.AnalysisRules ?? CodeAnalysisRules.Default));
            }
            catch (DiagnosticException e)
            {
                found.AddRange(e.Diagnostics);
            }
        }

        phases.End("analysis");

        var diagnostics = (options.Warnings ?? WarningPolicy.None).Apply(found);
        if (diagnostics.Any(d => d.IsError))
        {
            return Finish(options, diagnostics, written: false);
        }

        var deployment = preDeployment.Select(f => (PreDeploymentPart, f.Text)).Concat(postDeployment.Select(f => (PostDeploymentPart, f.Text)));
        var writeError = Write(model, options, deployment);
        phases.End("write");
        schemaModel.LastPhases = phases.ToString();
        if (writeError is not null)
        {
            return Finish(options, [.. diagnostics, writeError], written: false);
        }

        var result = Finish(options, diagnostics, written: true);
        reporter.Info(string.Create(
            CultureInfo.InvariantCulture,
            $"Built {Path.GetFullPath(options.OutputPath)} ({platform.Name}) from {schema.Count} schema file(s){DeploymentSummary(options)}: " +
            $"{result.Warnings.Count()} warning(s), {stopwatch.Elapsed.TotalSeconds:0.0} s."));
        return result;
    }

    /// <summary>
    /// DacFx builds its collation table from cultures by LCID, which a process in globalization-invariant mode (no ICU,
    /// or DOTNET_SYSTEM_GLOBALIZATION_INVARIANT set) does not have: say so instead of failing in a type initializer.
    /// </summary>
    private static Diagnostic? MissingCultureData()
    {
        try
        {
            _ = new CultureInfo(0x0c04); // zh-HK, the first culture DacFx's collation table asks for
            return null;
        }
        catch (CultureNotFoundException)
        {
            return Diagnostic.Error(
                DiagnosticCodes.ModelNotWritten,
                "DacFx needs the culture data of ICU, but this process runs in globalization-invariant mode. Install ICU " +
                "(e.g. libicu, or icu-libs on Alpine) and unset DOTNET_SYSTEM_GLOBALIZATION_INVARIANT.");
        }
    }

    /// <summary>Reports what was found; on errors, removes the dacpac an earlier build left so nothing stale is deployed.</summary>
    private DacpacBuildResult Finish(DacpacBuildOptions options, IReadOnlyList<Diagnostic> diagnostics, bool written)
    {
        var all = diagnostics.ToList();
        if (!written)
        {
            try
            {
                if (File.Exists(options.OutputPath))
                {
                    File.Delete(options.OutputPath);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                all.Add(Diagnostic.Error(DiagnosticCodes.ModelNotWritten, $"the dacpac of an earlier build cannot be deleted: {e.Message}", options.OutputPath));
            }
        }

        reporter.Report(all);
        if (!written)
        {
            reporter.Info($"No dacpac written: {all.Count(d => d.IsError)} error(s).");
        }

        return new DacpacBuildResult(all, written);
    }

    /// <summary>Each file's text, parsed by ScriptDom; every syntax error of every file (MIG2010) or unreadable file (MIG2006) into <paramref name="found"/>.</summary>
    private static List<(string Path, string Text)> ReadAndParse(SchemaModel model, IEnumerable<string> paths, List<Diagnostic> found)
    {
        var files = new List<(string, string)>();
        foreach (var path in paths)
        {
            string text;
            try
            {
                text = MigrationSource.ReadText(path);
            }
            catch (DiagnosticException e)
            {
                found.AddRange(e.Diagnostics);
                continue;
            }

            found.AddRange(model.SyntaxErrors(path, text));
            files.Add((path, text));
        }

        return files;
    }

    /// <summary>
    /// SSDT's built-in DatabaseName (the database the dacpac is built for), then the project's SqlCmdVariable items,
    /// which a <c>:setvar</c> in the script can still change.
    /// </summary>
    private static Dictionary<string, string> SqlCmdVariables(DacpacBuildOptions options)
    {
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["DatabaseName"] = options.DatabaseName ?? Path.GetFileNameWithoutExtension(options.OutputPath),
        };
        foreach (var (name, value) in options.SqlCmdVariables ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        return variables;
    }

    /// <summary>
    /// A deployment script with its SQLCMD syntax expanded (MIG2020–MIG2024), then parsed by ScriptDom, its syntax
    /// errors (MIG2010) placed at the file and line they were written in, which may be an included file.
    /// </summary>
    private static List<(string Path, string Text)> ExpandAndParse(
        SqlServerPlatform platform, string? path, IReadOnlyDictionary<string, string> variables, List<Diagnostic> found)
    {
        if (path is null)
        {
            return [];
        }

        var script = SqlCmdScript.Expand(path, variables);
        found.AddRange(script.Diagnostics);
        if (script.Diagnostics.Any(d => d.IsError))
        {
            return [];
        }

        found.AddRange(TSqlScriptParser.Parse(platform, path, script.Text).Errors.Select(script.ToSource));
        return [(path, script.Text)];
    }

    private static Diagnostic? Write(TSqlModel model, DacpacBuildOptions options, IEnumerable<(string Part, string Text)> deployment)
    {
        var output = Path.GetFullPath(options.OutputPath);
        var temporary = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileNameWithoutExtension(output)}.{Guid.NewGuid():N}.dacpac");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            var metadata = new PackageMetadata { Name = options.DatabaseName ?? Path.GetFileNameWithoutExtension(output) };
            DacPackageExtensions.BuildPackage(temporary, model, metadata, new PackageOptions());
            AddDeploymentScripts(temporary, deployment);
            File.Move(temporary, output, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DacServicesException or DacModelException)
        {
            return Diagnostic.Error(DiagnosticCodes.ModelNotWritten, $"the dacpac cannot be written: {e.Message}", output);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// The pre- and post-deployment scripts go into the dacpac as the parts DacFx reads (BuildPackage has no option
    /// for them), so that the dacpac alone is what a deploy needs.
    /// </summary>
    private static void AddDeploymentScripts(string dacpac, IEnumerable<(string Part, string Text)> deployment)
    {
        using var package = System.IO.Packaging.Package.Open(dacpac, FileMode.Open, FileAccess.ReadWrite);
        foreach (var (partName, text) in deployment)
        {
            var part = package.CreatePart(new Uri(partName, UriKind.Relative), "text/plain");
            using var stream = part.GetStream();
            // A script that ends without a newline would glue its last line to the GO that follows it in a deploy script.
            var bytes = new System.Text.UTF8Encoding(false).GetBytes(text.EndsWith('\n') ? text : text + Environment.NewLine);
            stream.Write(bytes);
        }
    }

    private static string DeploymentSummary(DacpacBuildOptions options) =>
        (options.PreDeploymentScript, options.PostDeploymentScript) switch
        {
            (not null, not null) => " with pre- and post-deployment scripts",
            (not null, null) => " with a pre-deployment script",
            (null, not null) => " with a post-deployment script",
            _ => "",
        };

    /// <summary>Where a build's time went, for the model server's log and the benchmark.</summary>
    private sealed class PhaseTimes
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<string> _phases = [];

        public void End(string phase)
        {
            _phases.Add(string.Create(CultureInfo.InvariantCulture, $"{phase} {_clock.Elapsed.TotalSeconds:0.00} s"));
            _clock.Restart();
        }

        public override string ToString() => string.Join(", ", _phases);
    }
}
