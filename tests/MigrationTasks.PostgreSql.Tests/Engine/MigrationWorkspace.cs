using MigrationTasks.PostgreSql.Tests.Suites;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.PostgreSql.Tests.Engine;

/// <summary>A folder of migration files and a fresh PostgreSQL database (the shared <see cref="Workspace"/> on PostgreSQL).</summary>
internal sealed class MigrationWorkspace : Workspace
{
    private MigrationWorkspace(string connectionString)
        : base(PostgresEngineUnderTest.Instance, connectionString)
    {
    }

    /// <summary>The user the connection string logs in as.</summary>
    public string User => new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString).Username!;

    public static async Task<MigrationWorkspace> CreateAsync() => new(await PostgresServer.CreateDatabaseAsync());
}
