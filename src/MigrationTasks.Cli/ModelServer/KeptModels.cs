using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.Cli.ModelServer;

/// <summary>
/// The models the server keeps, one per dacpac (its full path names the project), the most recently built first. Of
/// the build's options only the platform shapes the model; the others (database name, rules, warnings, SQLCMD
/// variables, deployment scripts) are applied to it anew at every build. A few at most: a 1,000-object model holds
/// a few hundred MB.
/// </summary>
internal sealed class KeptModels : IDisposable
{
    private const int Capacity = 3;

    private readonly List<(string Dacpac, SchemaModel Model)> _models = [];

    /// <summary>The model of the project that writes <paramref name="dacpac"/>: kept if it is of this platform and whole, else new.</summary>
    public SchemaModel For(string dacpac, SqlServerPlatform platform)
    {
        var index = _models.FindIndex(m => m.Dacpac == dacpac);
        if (index >= 0)
        {
            var kept = _models[index].Model;
            _models.RemoveAt(index);
            if (kept.Usable && kept.Platform.Name == platform.Name)
            {
                _models.Insert(0, (dacpac, kept));
                return kept;
            }

            kept.Dispose();
        }

        var model = new SchemaModel(platform);
        _models.Insert(0, (dacpac, model));
        while (_models.Count > Capacity)
        {
            _models[^1].Model.Dispose();
            _models.RemoveAt(_models.Count - 1);
        }

        return model;
    }

    /// <summary>Drops a project's model (DacFx refused a file, or the build failed unexpectedly): the next build starts anew.</summary>
    public void Forget(string dacpac)
    {
        var index = _models.FindIndex(m => m.Dacpac == dacpac);
        if (index >= 0)
        {
            _models[index].Model.Dispose();
            _models.RemoveAt(index);
        }
    }

    public void Dispose()
    {
        foreach (var (_, model) in _models)
        {
            model.Dispose();
        }

        _models.Clear();
    }
}
