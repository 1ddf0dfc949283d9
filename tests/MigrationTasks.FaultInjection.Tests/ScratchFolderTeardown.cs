using MigrationTasks.FaultInjection.Tests;
using NUnit.Framework.Interfaces;

/// <summary>
/// Deletes the run's scratch folder after every test of the assembly, when all passed (outside any namespace, so
/// that NUnit runs it after the tests of every namespace).
/// </summary>
[SetUpFixture]
public sealed class ScratchFolderTeardown
{
    [OneTimeTearDown]
    public void DeleteScratchFolder()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status != TestStatus.Failed)
        {
            ScratchFolder.Delete();
        }
        else
        {
            TestContext.Progress.WriteLine($"A test failed: its files are kept in {ScratchFolder.Root}.");
        }
    }
}
