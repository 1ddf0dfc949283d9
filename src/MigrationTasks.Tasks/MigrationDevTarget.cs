using System;
using System.Collections.Generic;
using System.Data.Common;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MigrationTasks.Tasks
{
    /// <summary>
    /// Writes which database the dev deploy goes to into a file that is an input of the deploy step, so that pointing the
    /// dev connection variable at another server or database deploys (and tests) again on the next build, while a
    /// rebuild against the same one still starts no process. The file is rewritten only when the target changed.
    /// </summary>
    /// <remarks>
    /// The file holds a SHA-256 of the target's host, port, database and user, never the connection string: no
    /// password, nothing to recover one from. The task reads the variable itself, in MSBuild's process, and hands
    /// nothing of its value to MSBuild (no property, no output parameter, no message), so it reaches neither a log nor
    /// a binary log. Everything else about the connection stays the CLI's business, out of process.
    /// </remarks>
    public sealed class MigrationDevTarget : Task
    {
        // The keys that name where a connection goes, in Npgsql's and SqlClient's spellings (case and spaces ignored).
        // A password change, a timeout or an application name leave the target as it is.
        private static readonly Dictionary<string, string> IdentityKeys = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["host"] = "host",
            ["server"] = "host",
            ["datasource"] = "host",
            ["address"] = "host",
            ["addr"] = "host",
            ["networkaddress"] = "host",
            ["port"] = "port",
            ["database"] = "database",
            ["initialcatalog"] = "database",
            ["db"] = "database",
            ["username"] = "user",
            ["userid"] = "user",
            ["user"] = "user",
            ["uid"] = "user",
        };

        /// <summary>The name (never the value) of the environment variable holding the dev connection string.</summary>
        [Required]
        public string ConnectionVariable { get; set; } = "";

        /// <summary>The file in obj/ that the deploy step lists among its inputs.</summary>
        [Required]
        public string OutputFile { get; set; } = "";

        public override bool Execute()
        {
            var text = "dev target: " + Describe(Environment.GetEnvironmentVariable(ConnectionVariable)) + "\n";
            if (StateFile.WriteIfChanged(Log, OutputFile, text, "the dev target file"))
            {
                Log.LogMessage(MessageImportance.Low, $"The dev target named by {ConnectionVariable} is new or changed: the dev deploy and the database tests run again.");
            }

            return !Log.HasLoggedErrors;
        }

        /// <summary>
        /// What the file says about the target: <c>none</c> when the variable is unset (a throwaway server, or no deploy),
        /// else <c>sha256:</c> and the hash of the target's normalized identity.
        /// </summary>
        public static string Describe(string? connectionString)
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                return "none (the variable is not set)";
            }

            var builder = new DbConnectionStringBuilder();
            try
            {
                builder.ConnectionString = connectionString;
            }
            catch (ArgumentException)
            {
                // The CLI cannot read it either (both drivers parse with this class) and fails the deploy, which then
                // writes no stamp; so a constant is enough, and nothing of the value is kept.
                return "unreadable";
            }

            var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (string key in builder.Keys)
            {
                var compact = new string(key.Where(c => !char.IsWhiteSpace(c)).ToArray());
                if (IdentityKeys.TryGetValue(compact, out var name))
                {
                    var value = (Convert.ToString(builder[key], System.Globalization.CultureInfo.InvariantCulture) ?? "").Trim();
                    // Host names are case-insensitive; database and user names may not be.
                    pairs[name] = name == "host" ? value.ToLowerInvariant() : value;
                }
            }

            if (pairs.Count == 0)
            {
                // No key this task knows names the target: every key but the secret ones stands in for it.
                foreach (string key in builder.Keys)
                {
                    var lower = key.ToLowerInvariant();
                    if (!(lower.Contains("password") || lower.Contains("pwd") || lower.Contains("secret") || lower.Contains("token") || lower.Contains("credential")))
                    {
                        pairs[lower] = Convert.ToString(builder[key], System.Globalization.CultureInfo.InvariantCulture) ?? "";
                    }
                }
            }

            var canonical = string.Join("\n", pairs.Select(p => p.Key + "=" + p.Value));
            using (var sha = SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(canonical));
                return "sha256:" + string.Concat(hash.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
    }
}
