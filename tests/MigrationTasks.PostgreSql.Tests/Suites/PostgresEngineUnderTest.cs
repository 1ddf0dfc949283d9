using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.Tests.Suites;

namespace MigrationTasks.PostgreSql.Tests.Suites;

/// <summary>The shared suites' fixture for PostgreSQL: databases of the test run's throwaway cluster (<see cref="PostgresServer"/>).</summary>
public sealed class PostgresEngineUnderTest : EngineUnderTest
{
    public static PostgresEngineUnderTest Instance { get; } = new();

    public override IMigrationEngine Engine { get; } = new PostgresEngine();

    public override string DefaultSchema => "public";

    public override string DuplicateKeyError => "23505";

    public override bool TellsWritesSinceBackup => true;

    public override bool StartsThrowawayServers => true;

    public override Task RequireServerAsync()
    {
        PostgresServer.Require();
        return Task.CompletedTask;
    }

    /// <summary>pg_dump runs on this machine: any folder of ours will do.</summary>
    public override Task<string> CreateBackupDirectoryAsync() =>
        Task.FromResult(Directory.CreateTempSubdirectory("migrationtasks-backups-").FullName);

    public override Task<string> CreateDatabaseAsync() => PostgresServer.CreateDatabaseAsync();

    public override Task<List<string?[]>> QueryAsync(string connectionString, string sql) => PostgresServer.QueryAsync(connectionString, sql);

    public override Task<List<string?[]>> CopiesOfAsync(string connectionString) =>
        QueryAsync(connectionString, @"SELECT datname FROM pg_database WHERE datname LIKE current_database() || '\_copy\_%'");

    public override string Script(params string[] statements) => string.Join('\n', statements);

    public override string CreateOrReplaceView(string name, string query) => $"CREATE OR REPLACE VIEW {name} AS {query};";

    /// <summary>CONCURRENTLY: PostgreSQL refuses it inside a transaction, so the engine runs the file outside one on its own.</summary>
    public override (string Sql, string Reason) IndexOutsideATransaction(string name, string table, string column, bool unique = false) =>
        ($"CREATE {(unique ? "UNIQUE " : "")}INDEX CONCURRENTLY {name} ON {table} ({column});", "CREATE INDEX CONCURRENTLY at line 1");
}
