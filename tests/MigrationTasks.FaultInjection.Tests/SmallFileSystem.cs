using System.Diagnostics;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// A tmpfs of a few kilobytes mounted for one test: a disk that fills up, or is mounted read-only. Mounting needs
/// root (CI runs as root); elsewhere the test is ignored with the reason.
/// </summary>
internal sealed class SmallFileSystem : IDisposable
{
    private SmallFileSystem(string path) => Path = path;

    public string Path { get; }

    public static SmallFileSystem Mount(int kilobytes, bool readOnly = false)
    {
        var path = Directory.CreateDirectory(ScratchFolder.PathFor($"fs-{Guid.NewGuid():N}")).FullName;
        var (exit, output) = Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k,mode=0777{(readOnly ? ",ro" : "")}", "tmpfs", path);
        if (exit != 0)
        {
            Assert.Ignore($"a small file system cannot be mounted here (mount exited {exit}: {output.Trim()}); this test needs root.");
        }

        return new SmallFileSystem(path);
    }

    /// <summary>Fills the file system to its last <paramref name="freeKilobytes"/> kilobytes (whole pages).</summary>
    public void FillLeaving(int freeKilobytes)
    {
        var info = new DriveInfo(Path);
        var fill = info.AvailableFreeSpace - (freeKilobytes * 1024L);
        if (fill > 0)
        {
            using var stream = File.Create(System.IO.Path.Combine(Path, "ballast"));
            stream.SetLength(0);
            stream.Write(new byte[fill]);
        }
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
