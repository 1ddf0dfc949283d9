using System.Diagnostics;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// The one folder this test run writes its packages, baselines, standbys and small file systems into:
/// <c>$TMP/migrationtasks-faults/run-&lt;pid&gt;</c>. A run writes gigabytes (a package per distinct release, with the
/// runner), so it is deleted when the run ends (see <see cref="ScratchFolderTeardown"/>), unless a test failed and its
/// files are the evidence.
/// </summary>
internal static class ScratchFolder
{
    public static string Root { get; } = Directory.CreateDirectory(
        Path.Combine(Path.GetTempPath(), "migrationtasks-faults", $"run-{Environment.ProcessId}")).FullName;

    /// <summary>A new path under the run's folder (not created).</summary>
    public static string PathFor(string name) => Path.Combine(Root, name);

    /// <summary>Unmounts what a test left mounted below the folder, then deletes it.</summary>
    public static void Delete()
    {
        if (!Directory.Exists(Root))
        {
            return;
        }

        foreach (var line in File.Exists("/proc/mounts") ? File.ReadAllLines("/proc/mounts") : [])
        {
            var mountPoint = line.Split(' ') is [_, var point, ..] ? point : "";
            if (mountPoint.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                Process.Start("umount", ["-l", mountPoint])!.WaitForExit();
            }
        }

        Directory.Delete(Root, recursive: true);
    }
}
