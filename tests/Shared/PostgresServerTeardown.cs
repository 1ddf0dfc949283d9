using MigrationTasks.PostgreSql.Tests;

/// <summary>
/// Stops and deletes the shared cluster after every test of the assembly. It stands outside any namespace because
/// NUnit runs a setup fixture's teardown only for the tests of its own namespace and below.
/// </summary>
[SetUpFixture]
public sealed class PostgresServerTeardown
{
    [OneTimeTearDown]
    public Task DeleteClusterAsync() => PostgresServer.DeleteClusterAsync();
}
