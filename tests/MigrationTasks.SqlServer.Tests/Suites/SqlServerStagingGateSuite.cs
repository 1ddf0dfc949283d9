using MigrationTasks.Tests.Suites;

namespace MigrationTasks.SqlServer.Tests.Suites;

/// <summary>Ignored, with the reason, where no SQL Server can be had (see <see cref="Live.SqlServerTestServer"/>).</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerStagingGateSuite() : StagingGateSuite(SqlServerEngineUnderTest.Instance);
