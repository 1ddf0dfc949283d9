using MigrationTasks.Diagnostics;
using Microsoft.SqlServer.Dac;
using MigrationTasks.SqlServer.Scripts;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>
/// The DacFx model of one project's Schema/ files, with the text each file had when its objects were added. A cold
/// build makes one and throws it away; the model server keeps it, so that the next build deletes the objects of the
/// files that are gone and adds again only those of the files whose text changed (DacFx replaces a source's objects
/// by its source name). DacFx writes named elements in an order of its own, whatever the order they came in; but
/// where unnamed elements (an inline PRIMARY KEY without a CONSTRAINT name) are written, and so how the annotations
/// are numbered, depends on the history of the model, not only on its content. So a model with an unnamed element
/// anywhere is built again from all files in their order, as a cold build would, whenever a file changes: model.xml
/// is the same byte for byte either way (SchemaModelTests compares the two after every kind of edit).
/// </summary>
public sealed class SchemaModel : IDisposable
{
    private readonly Dictionary<string, string> _added = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Text, IReadOnlyList<Diagnostic> Errors)> _parsed = new(StringComparer.Ordinal);
    private bool _hasUnnamed;

    public SchemaModel(SqlServerPlatform platform)
    {
        Platform = platform;
        Model = NewModel(platform);
    }

    public SqlServerPlatform Platform { get; }

    internal TSqlModel Model { get; private set; }

    /// <summary>
    /// False once DacFx refused a file: the model then lacks that file and maybe more, and the next build must start
    /// from a new one.
    /// </summary>
    public bool Usable { get; private set; } = true;

    /// <summary>The files whose objects the last <see cref="Update"/> added (all of them when it built the model again).</summary>
    public int LastAdded { get; private set; }

    /// <summary>Where the last build that wrote a dacpac spent its time (read and parse, model, validation, analysis, write).</summary>
    public string LastPhases { get; internal set; } = "";

    /// <summary>How many builds reached the model (a build with a syntax error stops before it).</summary>
    public int Updates { get; private set; }

    /// <summary>ScriptDom's syntax errors of one file, parsed again only when its text changed.</summary>
    internal IReadOnlyList<Diagnostic> SyntaxErrors(string path, string text)
    {
        if (_parsed.TryGetValue(path, out var parsed) && parsed.Text == text)
        {
            return parsed.Errors;
        }

        var errors = TSqlScriptParser.Parse(Platform, path, text).Errors;
        _parsed[path] = (text, errors);
        return errors;
    }

    /// <summary>
    /// Brings the model to exactly <paramref name="schema"/>: the objects of files no longer listed deleted, those of
    /// new or changed files added; or, when an unnamed element is involved, a new model of every file in the given
    /// order. Null, or the file DacFx refused (MIG2011).
    /// </summary>
    internal Diagnostic? Update(IReadOnlyList<(string Path, string Text)> schema)
    {
        Updates++;
        var wanted = schema.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var gone = _added.Keys.Where(p => !wanted.Contains(p)).ToList();
        var changed = schema.Where(f => !_added.TryGetValue(f.Path, out var text) || text != f.Text).ToList();
        if (_hasUnnamed && (gone.Count > 0 || changed.Count > 0))
        {
            return Rebuild(schema);
        }

        foreach (var path in gone)
        {
            Model.DeleteObjects(path);
            _added.Remove(path);
            _parsed.Remove(path);
        }

        var firstBuild = _added.Count == 0;
        var refused = Add(changed);
        if (refused is not null)
        {
            return refused;
        }

        _hasUnnamed = HasUnnamedElements();
        return !firstBuild && _hasUnnamed && (gone.Count > 0 || changed.Count > 0) ? Rebuild(schema) : null;
    }

    public void Dispose() => Model.Dispose();

    private static TSqlModel NewModel(SqlServerPlatform platform) =>
        new(platform.Version, new TSqlModelOptions { StorageType = DacSchemaModelStorageType.Memory });

    private Diagnostic? Rebuild(IReadOnlyList<(string Path, string Text)> schema)
    {
        Model.Dispose();
        Model = NewModel(Platform);
        _added.Clear();
        var refused = Add(schema);
        _hasUnnamed = refused is null && HasUnnamedElements();
        return refused;
    }

    private Diagnostic? Add(IReadOnlyList<(string Path, string Text)> files)
    {
        LastAdded = 0;
        foreach (var (path, text) in files)
        {
            try
            {
                Model.AddOrUpdateObjects(text, path, new TSqlObjectOptions());
                _added[path] = text;
                LastAdded++;
            }
            catch (DacModelException e)
            {
                // The problem is in GetModelErrors() with its position; DacFx refuses every later file anyway.
                Usable = false;
                return Diagnostic.Error(DiagnosticCodes.SchemaModelProblem, $"DacFx refused the file: {e.Message}", path);
            }
        }

        return null;
    }

    // The model's own unnamed singletons (DatabaseOptions) come from no file and stay where they are.
    private bool HasUnnamedElements() =>
        Model.GetObjects(DacQueryScopes.UserDefined).Any(o => !o.Name.HasName && o.GetSourceInformation() is { SourceName.Length: > 0 });
}
