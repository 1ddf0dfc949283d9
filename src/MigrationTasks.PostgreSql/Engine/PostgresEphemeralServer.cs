using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Ephemeral;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>A throwaway cluster seen through the engine interface; stopping it keeps its data for the next step.</summary>
internal sealed class PostgresEphemeralServer(EphemeralPostgresCluster cluster) : IEphemeralServer
{
    public async Task<ITargetDatabase> OpenDatabaseAsync(string name, bool create, CancellationToken cancellationToken)
    {
        if (create)
        {
            await cluster.CreateDatabaseAsync(name, cancellationToken);
        }

        return await PostgresDatabase.OpenAsync(PostgresConnections.Parse(cluster.ConnectionString(name)), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await cluster.StopAsync(fast: true);
        await cluster.DisposeAsync();
    }
}
