using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.SqlServer.Engine;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>A folder of migration files and a fresh SQL Server database, driven through Core's runner and the real engine.</summary>
internal sealed class SqlServerWorkspace
{
    private readonly string _folder = Directory.CreateTempSubdirectory("migrationtasks-sqlserver-").FullName;
    private readonly StringWriter _output = new();

    private SqlServerWorkspace(string connectionString) => ConnectionString = connectionString;

    public string ConnectionString { get; }

    public string Output => _output.ToString();

    public SqlServerEngine Engine { get; } = new();

    public static async Task<SqlServerWorkspace> CreateAsync() => new(await SqlServerTestServer.CreateDatabaseAsync());

    /// <summary>Writes a file; one in a subfolder (e.g. <c>checks/x.sql</c>) is not a migration.</summary>
    public string Write(string name, string sql)
    {
        var path = Path.Combine(_folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sql);
        return path;
    }

    public IReadOnlyList<string> Files => [.. Directory.EnumerateFiles(_folder, "*.sql")];

    /// <summary>Applies every migration of the folder; returns the diagnostics that stopped it (empty on success).</summary>
    public async Task<IReadOnlyList<Diagnostic>> DeployAsync(TimeSpan? lockWait = null)
    {
        try
        {
            var migrations = MigrationSource.Prepare(Engine, Files);
            await using var database = await Engine.ConnectAsync(ConnectionString, CancellationToken.None);
            await new MigrationRunner(new Reporter(_output)).DeployAsync(database, migrations, ApplyContext.ForThisMachine(), lockWait ?? TimeSpan.FromSeconds(30), CancellationToken.None);
            return [];
        }
        catch (DiagnosticException e)
        {
            return e.Diagnostics;
        }
    }

    public Task<ITargetDatabase> ConnectAsync() => Engine.ConnectAsync(ConnectionString, CancellationToken.None);

    public Task<List<string?[]>> QueryAsync(string sql) => SqlServerTestServer.QueryAsync(ConnectionString, sql);

    public async Task<string?> ScalarAsync(string sql) => (await QueryAsync(sql))[0][0];
}
