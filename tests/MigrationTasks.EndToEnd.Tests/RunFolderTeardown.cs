using MigrationTasks.EndToEnd.Tests;
using NUnit.Framework.Interfaces;

/// <summary>
/// Deletes the run's package and projects after every test of the assembly, when all passed (a failure keeps them
/// as evidence). Outside any namespace, so that NUnit runs it after the tests of every namespace.
/// </summary>
[SetUpFixture]
public sealed class RunFolderTeardown
{
    [OneTimeTearDown]
    public void DeleteRunFolder()
    {
        if (PackedPackage.RunFolder is not { } folder || !Directory.Exists(folder))
        {
            return;
        }

        if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed)
        {
            TestContext.Progress.WriteLine($"A test failed: its projects are kept in {folder}.");
            return;
        }

        Directory.Delete(folder, recursive: true);
    }
}
