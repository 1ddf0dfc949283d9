using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Schema;

namespace MigrationTasks.Tests.Suites;

/// <summary>
/// A folder of migration files and a fresh database of the engine under test, driven through Core's public API.
/// The database's connection string is also in an environment variable of its own, as the build and the runner
/// are given it.
/// </summary>
public class Workspace
{
    private readonly StringWriter _output = new();

    protected Workspace(EngineUnderTest engine, string connectionString)
    {
        Under = engine;
        ConnectionString = connectionString;
        ConnectionVariable = "MIGRATIONTASKS_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(ConnectionVariable, connectionString);
    }

    public EngineUnderTest Under { get; }

    public IMigrationEngine Engine => Under.Engine;

    public string ConnectionString { get; }

    /// <summary>The environment variable that holds <see cref="ConnectionString"/>.</summary>
    public string ConnectionVariable { get; }

    public string Folder { get; } = Directory.CreateTempSubdirectory("migrationtasks-workspace-").FullName;

    /// <summary>What the runner said in every <see cref="DeployAsync(TimeSpan?)"/> so far.</summary>
    public string Output => _output.ToString();

    /// <summary>The migrations: the .sql files at the top of the folder (those in subfolders are tests, checks, verifications).</summary>
    public IReadOnlyList<string> Files => [.. Directory.EnumerateFiles(Folder, "*.sql")];

    public static async Task<Workspace> CreateAsync(EngineUnderTest engine) => new(engine, await engine.CreateDatabaseAsync());

    /// <summary>Writes a file; one in a subfolder (e.g. <c>checks/x.sql</c>) is not a migration.</summary>
    public string Write(string name, string sql)
    {
        var path = Path.Combine(Folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sql);
        return path;
    }

    /// <summary>Applies every migration of the folder with Core's runner; returns the diagnostics that stopped it (empty on success).</summary>
    public Task<IReadOnlyList<Diagnostic>> DeployAsync(TimeSpan? lockWait = null) => DeployAsync(Files, lockWait);

    /// <summary>Applies the given migration files with Core's runner; returns the diagnostics that stopped it (empty on success).</summary>
    public async Task<IReadOnlyList<Diagnostic>> DeployAsync(IReadOnlyList<string> migrations, TimeSpan? lockWait = null)
    {
        try
        {
            var prepared = MigrationSource.Prepare(Engine, migrations);
            await using var database = await ConnectAsync();
            await new MigrationRunner(new Reporter(_output)).DeployAsync(database, prepared, ApplyContext.ForThisMachine(), lockWait ?? TimeSpan.FromSeconds(30), CancellationToken.None);
            return [];
        }
        catch (DiagnosticException e)
        {
            return e.Diagnostics;
        }
    }

    public Task<ITargetDatabase> ConnectAsync() => Engine.ConnectAsync(ConnectionString, CancellationToken.None);

    public Task<List<string?[]>> QueryAsync(string sql) => Under.QueryAsync(ConnectionString, sql);

    public async Task<string?> ScalarAsync(string sql) => (await QueryAsync(sql))[0][0];

    public async Task<SchemaSnapshot> SnapshotAsync()
    {
        await using var database = await ConnectAsync();
        return await database.ReadSchemaAsync(CancellationToken.None);
    }

    public async Task<IReadOnlyList<HistoryEntry>> HistoryAsync()
    {
        await using var database = await ConnectAsync();
        return await database.ReadHistoryAsync(CancellationToken.None);
    }

    public async Task<IReadOnlyList<DeployAttempt>> AttemptsAsync()
    {
        await using var database = await ConnectAsync();
        return await database.ReadDeployAttemptsAsync(CancellationToken.None);
    }

    /// <summary>The schema that <paramref name="migrations"/> build on a new, empty database: an exact expected state.</summary>
    public async Task<SchemaSnapshot> SchemaBuiltFromScratchAsync(IReadOnlyList<string> migrations)
    {
        var scratch = await CreateAsync(Under);
        Assert.That(await scratch.DeployAsync(migrations), Is.Empty, scratch.Output);
        return await scratch.SnapshotAsync();
    }
}
