using System.Diagnostics;
using MigrationTasks.Release;
using MigrationTasks.Testing;

namespace MigrationTasks.Core.Tests.Release;

public sealed class SourceRevisionTests
{
    [Test]
    public void Inside_git_it_is_the_commit_git_itself_reports_read_without_running_git()
    {
        var info = new ProcessStartInfo("git", "rev-parse HEAD") { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true };
        string expected;
        try
        {
            using var git = Process.Start(info)!;
            expected = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            if (git.ExitCode != 0)
            {
                Assert.Ignore("the repository is not a git work tree here");
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Ignore("git is not installed, so there is nothing to compare with");
            return;
        }

        Assert.That(SourceRevision.Find(Path.Combine(RepositoryPaths.Root, "samples", "PgShop")), Is.EqualTo(expected));
    }

    [Test]
    public void Outside_git_it_is_null()
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-nogit-").FullName;

        Assert.That(SourceRevision.Find(folder), Is.Null);
    }
}
