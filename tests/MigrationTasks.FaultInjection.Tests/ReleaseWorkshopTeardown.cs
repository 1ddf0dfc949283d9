using MigrationTasks.FaultInjection.Tests;

/// <summary>
/// Deletes the release packages the suite made once every test has run: each test runs a copy of its own, and the
/// copies of one run add up to several GB of the temp folder. Outside any namespace so that NUnit runs it after all of them.
/// </summary>
[SetUpFixture]
public sealed class ReleaseWorkshopTeardown
{
    [OneTimeTearDown]
    public void DeletePackages() => ReleaseWorkshop.DeletePackages();
}
