using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.PostgreSql.Engine;

namespace MigrationTasks.PostgreSql.Tests.Engine;

/// <summary>A folder of migration files and a fresh database, driven through Core's runner and the real engine.</summary>
internal sealed class MigrationWorkspace
{
    private readonly string _folder = Directory.CreateTempSubdirectory("migrationtasks-engine-").FullName;
    private readonly StringWriter _output = new();

    private MigrationWorkspace(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    /// <summary>The user the connection string logs in as.</summary>
    public string User => new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString).Username!;

    public string Output => _output.ToString();

    public static async Task<MigrationWorkspace> CreateAsync() => new(await PostgresServer.CreateDatabaseAsync());

    /// <summary>Writes a file; one in a subfolder (e.g. <c>checks/x.sql</c>) is not a migration.</summary>
    public string Write(string name, string sql)
    {
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sql);
        return path;
    }

    public IReadOnlyList<string> Files => [.. Directory.EnumerateFiles(_folder, "*.sql")];

    /// <summary>Applies every file of the folder; returns the diagnostics that stopped it (empty on success).</summary>
    public async Task<IReadOnlyList<Diagnostic>> DeployAsync(TimeSpan? lockWait = null)
    {
        var engine = new PostgresEngine();
        try
        {
            var migrations = MigrationSource.Prepare(engine, Files);
            await using var database = await engine.ConnectAsync(ConnectionString, CancellationToken.None);
            await new MigrationRunner(new Reporter(_output)).DeployAsync(database, migrations, ApplyContext.ForThisMachine(), lockWait ?? TimeSpan.FromSeconds(30), CancellationToken.None);
            return [];
        }
        catch (DiagnosticException e)
        {
            return e.Diagnostics;
        }
    }

    public Task<List<string?[]>> QueryAsync(string sql) => PostgresServer.QueryAsync(ConnectionString, sql);

    public async Task<string?> ScalarAsync(string sql) => (await QueryAsync(sql))[0][0];
}
