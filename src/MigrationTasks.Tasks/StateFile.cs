using System;
using System.IO;
using System.Text;
using Microsoft.Build.Utilities;

namespace MigrationTasks.Tasks
{
    /// <summary>
    /// A file in obj/ that a step's target takes as an input: rewritten only when its text changes, so that its
    /// timestamp moves exactly when what it describes does.
    /// </summary>
    internal static class StateFile
    {
        /// <summary>Writes <paramref name="text"/> unless the file holds it already; MIG1008 (an error logged) when it cannot.</summary>
        /// <param name="what">What the file is, for the error: "the dev target file", "the input list".</param>
        /// <returns>True when the file was written (its text changed).</returns>
        public static bool WriteIfChanged(TaskLoggingHelper log, string path, string text, string what)
        {
            try
            {
                if (File.Exists(path) && File.ReadAllText(path) == text)
                {
                    return false;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path)));
                File.WriteAllText(path, text, new UTF8Encoding(false));
                return true;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // MIG1008 is DiagnosticCodes.StateFileUnwritable; this assembly references no Core (design §2).
                log.LogError(null, "MIG1008", null, path, 0, 0, 0, 0,
                    $"cannot write {what} {path}: {e.Message}. Check that obj/ is writable, or delete it and build again.");
                return false;
            }
        }
    }
}
