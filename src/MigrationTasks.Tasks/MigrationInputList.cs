using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MigrationTasks.Tasks
{
    /// <summary>
    /// Writes the list of a step's inputs, one line per setting and one per file with the SHA-256 of its content, into
    /// a file in obj/ that the step's target takes as its only input besides the CLI: rewritten only when a line
    /// changed, so that up-to-dateness is decided by content, not timestamps. A file touched without a change (as
    /// `git checkout` or an editor's save-all does) leaves the list, and so the step, as it was; a file added, deleted,
    /// renamed or edited changes it.
    /// </summary>
    /// <remarks>
    /// Hashing runs on every build, a no-op one included: about 10 ms for 2,000 migration files, far below what one
    /// needless dev deploy costs.
    /// </remarks>
    public sealed class MigrationInputList : Task
    {
        /// <summary>The list file in obj/.</summary>
        [Required]
        public string OutputFile { get; set; } = "";

        /// <summary>Settings that change what the step does, written as they are.</summary>
        public string[] Lines { get; set; } = Array.Empty<string>();

        /// <summary>The step's input files, hashed by content; one missing is listed as such (the CLI reports it).</summary>
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            var text = new StringBuilder();
            foreach (var line in Lines)
            {
                text.Append(line).Append('\n');
            }

            foreach (var file in Files.Select(f => f.GetMetadata("FullPath")))
            {
                text.Append(file).Append('\t').Append(HashOf(file)).Append('\n');
            }

            if (StateFile.WriteIfChanged(Log, OutputFile, text.ToString(), "the input list"))
            {
                Log.LogMessage(MessageImportance.Low, $"The inputs listed in {OutputFile} changed: the steps that take them run again.");
            }

            return !Log.HasLoggedErrors;
        }

        private static string HashOf(string path)
        {
            try
            {
                using (var stream = File.OpenRead(path))
                using (var sha = SHA256.Create())
                {
                    return BitConverter.ToString(sha.ComputeHash(stream)).Replace("-", "").ToLowerInvariant();
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return "unreadable";
            }
        }
    }
}
