using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Tests.Live;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.SqlServer.Tests.Suites;

/// <summary>
/// The shared suites' fixture for SQL Server: databases of <see cref="SqlServerTestServer"/> (MIGRATIONTASKS_TEST_SQLSERVER,
/// else a container where Docker works, else every suite ignored with the reason).
/// </summary>
public sealed class SqlServerEngineUnderTest : EngineUnderTest
{
    /// <summary>The databases the engine made as copies of the current one (named <c>&lt;db&gt;_mtcopy_&lt;hex&gt;</c>).</summary>
    public const string CopiesOfThisDatabase = @"SELECT name FROM sys.databases WHERE name LIKE REPLACE(DB_NAME(), N'_', N'\_') + N'\_mtcopy\_%' ESCAPE N'\'";

    public static SqlServerEngineUnderTest Instance { get; } = new();

    public override IMigrationEngine Engine { get; } = new SqlServerEngine();

    public override string DefaultSchema => "dbo";

    public override string DuplicateKeyError => "2627";

    /// <summary>SQL Server keeps no write counters: a restore after a commit needs --discard-later-writes.</summary>
    public override bool TellsWritesSinceBackup => false;

    public override bool StartsThrowawayServers => false;

    public override Task RequireServerAsync() => SqlServerTestServer.RequireAsync();

    /// <summary>The server writes its .bak files itself: a folder both it and the tests see, or the suite is ignored.</summary>
    public override Task<string> CreateBackupDirectoryAsync() => SqlServerTestServer.RequireBackupDirectoryAsync();

    public override Task<string> CreateDatabaseAsync() => SqlServerTestServer.CreateDatabaseAsync();

    public override Task<List<string?[]>> QueryAsync(string connectionString, string sql) => SqlServerTestServer.QueryAsync(connectionString, sql);

    public override Task<List<string?[]>> CopiesOfAsync(string connectionString) => QueryAsync(connectionString, CopiesOfThisDatabase);

    public override string Script(params string[] statements) => string.Join("\nGO\n", statements);

    public override string CreateOrReplaceView(string name, string query) => $"CREATE OR ALTER VIEW {name} AS {query};";

    /// <summary>CREATE INDEX can run in a transaction on SQL Server: the file asks for none with the marker.</summary>
    public override (string Sql, string Reason) IndexOutsideATransaction(string name, string table, string column, bool unique = false) =>
        ($"{NoTransactionMarker}\nCREATE {(unique ? "UNIQUE " : "")}INDEX {name} ON {table} ({column});", $"marked '{NoTransactionMarker}'");
}
