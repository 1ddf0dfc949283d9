using System;
using System.IO;
using System.Linq;

namespace MigrationTasks.Common
{
    /// <summary>
    /// The one file whose path differs from a missing one only in case, looked up folder by folder. SSDT projects come
    /// from Windows, where <c>dbo\Tables\customer.sql</c> opens <c>Customer.sql</c>. One source compiled into the SQL
    /// Server engine (which reads the file and warns MIG2024) and into the MSBuild tasks (netstandard2.0, no reference
    /// to the engine: they give the targets the same spelling as Inputs), so that both always find the same file.
    /// </summary>
    internal static class CaseInsensitivePath
    {
        /// <summary>The file on disk, or null when no folder or more than one entry matches at some level.</summary>
        public static string? Find(string path)
        {
            var root = Path.GetPathRoot(path);
            if (string.IsNullOrEmpty(root))
            {
                return null;
            }

            var current = root;
            foreach (var segment in path.Substring(root.Length).Split(new[] { Path.DirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries))
            {
                var exact = Path.Combine(current, segment);
                if (Directory.Exists(exact) || File.Exists(exact))
                {
                    current = exact;
                    continue;
                }

                if (!Directory.Exists(current))
                {
                    return null;
                }

                var matches = Directory.EnumerateFileSystemEntries(current)
                    .Where(e => string.Equals(Path.GetFileName(e), segment, StringComparison.OrdinalIgnoreCase))
                    .Take(2)
                    .ToList();
                if (matches.Count != 1)
                {
                    return null;
                }

                current = matches[0];
            }

            return File.Exists(current) ? current : null;
        }
    }
}
