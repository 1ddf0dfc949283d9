using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using MigrationTasks.Common;
using Microsoft.Build.Utilities;

namespace MigrationTasks.Tasks
{
    /// <summary>
    /// The items as the files are spelled on disk, for a target's Inputs. An SSDT project from Windows may name
    /// <c>dbo\Tables\customer.sql</c> for <c>Customer.sql</c>; the CLI finds that file (MIG2024, SourcePath in the SQL
    /// Server engine), but MSBuild's up-to-date check on a case-sensitive file system does not, counts the input as
    /// missing and runs the target on every build. An item whose file is missing is looked up folder by folder ignoring
    /// case, the same way the CLI does; it is replaced when exactly one file matches, and kept as it is otherwise (so a
    /// file that is really missing still re-runs the target, which then reports it).
    /// </summary>
    public sealed class MigrationResolveCase : Task
    {
        [Required]
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        [Output]
        public ITaskItem[] Resolved { get; private set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            Resolved = Files.Select(Resolve).ToArray();
            return true;
        }

        private static ITaskItem Resolve(ITaskItem item)
        {
            var path = item.GetMetadata("FullPath");
            if (File.Exists(path) || !(CaseInsensitivePath.Find(path) is string actual))
            {
                return item;
            }

            var resolved = new TaskItem(item);
            resolved.ItemSpec = actual;
            return resolved;
        }
    }
}
