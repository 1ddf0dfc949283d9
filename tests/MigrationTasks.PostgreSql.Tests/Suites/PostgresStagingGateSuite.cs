using MigrationTasks.Tests.Suites;

namespace MigrationTasks.PostgreSql.Tests.Suites;

/// <summary>Runs on the test run's throwaway PostgreSQL cluster (see <see cref="PostgresServer"/>).</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class PostgresStagingGateSuite() : StagingGateSuite(PostgresEngineUnderTest.Instance);
