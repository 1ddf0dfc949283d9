using MigrationTasks.SqlServer.Tests.Suites;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>A folder of migration files and a fresh SQL Server database (the shared <see cref="Workspace"/> on SQL Server).</summary>
internal sealed class SqlServerWorkspace : Workspace
{
    private SqlServerWorkspace(string connectionString)
        : base(SqlServerEngineUnderTest.Instance, connectionString)
    {
    }

    public static async Task<SqlServerWorkspace> CreateAsync() => new(await SqlServerTestServer.CreateDatabaseAsync());
}
