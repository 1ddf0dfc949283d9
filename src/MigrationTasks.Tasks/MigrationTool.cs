using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MigrationTasks.Tasks
{
    /// <summary>
    /// Runs one verb of the <c>migrate</c> CLI out of process (design §2: no database code in MSBuild's process).
    /// Options go in a response file; connection strings never do: the CLI reads them from the environment variable
    /// whose name it is given. The CLI prints MSBuild canonical lines; those with a MIG code are logged as errors and
    /// warnings at their file and line, every other line as a message.
    /// </summary>
    public sealed class MigrationTool : ToolTask
    {
        // Codes of MigrationTasks.Diagnostics.DiagnosticCodes, which this assembly does not reference (it loads into
        // MSBuild with no code of ours beside it); Tasks.Tests checks they are the same.
        private const string InvalidOptionCode = "MIG1001";

        private const string CliFailedWithoutErrorCode = "MIG1007";

        // The CLI's own diagnostics as Diagnostic.ToString prints them: "<file>(<line>,<col>): error MIG2004: …" or
        // "migrate: warning MIG1002: …". MSBuild alone would also read a progress line such as "shop: network error:
        // timeout" as an error, and fail a build the CLI did not fail.
        private static readonly Regex DiagnosticLine = new Regex(@"^.*?: (error|warning) MIG\d{4}: ", RegexOptions.CultureInvariant);

        /// <summary>The CLI verb, e.g. <c>check</c>, <c>deploy-dev</c>, <c>test</c>.</summary>
        [Required]
        public string Verb { get; set; } = "";

        /// <summary>Full path of <c>migrate.dll</c>.</summary>
        [Required]
        public string CliPath { get; set; } = "";

        /// <summary>The <c>dotnet</c> host that runs the CLI; the one running this build when empty.</summary>
        public string DotNetHost { get; set; } = "";

        public string Engine { get; set; } = "";

        public ITaskItem[] Migrations { get; set; } = [];

        public ITaskItem[] Tests { get; set; } = [];

        /// <summary>The name (never the value) of the environment variable holding the connection string.</summary>
        public string ConnectionVariable { get; set; } = "";

        public string DevDatabase { get; set; } = "";

        public string StateDirectory { get; set; } = "";

        public string JUnitFile { get; set; } = "";

        public string SuiteName { get; set; } = "";

        /// <summary>MigrationTestsAlways: every test runs, not only those whose inputs changed.</summary>
        public bool TestsAlways { get; set; }

        /// <summary>deploy-dev with tests: the deploy's stamp, which the CLI writes once the deploy succeeded.</summary>
        public string DeployedStamp { get; set; } = "";

        public string LockTimeout { get; set; } = "";

        /// <summary>MigrationStatementLockTimeout (seconds), carried in the release's manifest.</summary>
        public string StatementLockTimeout { get; set; } = "";

        public ITaskItem[] Checks { get; set; } = [];

        public string ReportDirectory { get; set; } = "";

        public bool FindingsAsErrors { get; set; }

        public ITaskItem[] Verifies { get; set; } = [];

        /// <summary>Where the package verb writes <c>release/</c>.</summary>
        public string PublishDirectory { get; set; } = "";

        public string PackageId { get; set; } = "";

        public string PackageVersion { get; set; } = "";

        /// <summary>MigrationBaseline: production's exported state.</summary>
        public string Baseline { get; set; } = "";

        /// <summary>The certificate file; its password reaches the CLI only through the inherited environment.</summary>
        public string SigningCertificate { get; set; } = "";

        public string StagingReport { get; set; } = "";

        public string ProjectDirectory { get; set; } = "";

        /// <summary>SQL Server: the Schema/ files compiled into the dacpac.</summary>
        public ITaskItem[] SchemaFiles { get; set; } = [];

        /// <summary>SQL Server: the pre-deployment script (at most one; the CLI says so otherwise).</summary>
        public ITaskItem[] PreDeploy { get; set; } = [];

        public ITaskItem[] PostDeploy { get; set; } = [];

        /// <summary>SQL Server: SSDT's SqlCmdVariable items (Include = name; Value, else DefaultValue).</summary>
        public ITaskItem[] SqlCmdVariables { get; set; } = [];

        /// <summary>The file a verb writes, e.g. the dacpac.</summary>
        public string OutputFile { get; set; } = "";

        public string SqlServerVersion { get; set; } = "";

        /// <summary>SQL Server: the project's dacpac, which the package step plans against the baseline dacpac.</summary>
        public string Dacpac { get; set; } = "";

        /// <summary>SQL Server: MigrationAllowDataLoss; the release may drop tables and columns with their data.</summary>
        public bool AllowDataLoss { get; set; }

        public string DatabaseName { get; set; } = "";

        /// <summary>MigrationFullValidation: the dev deploy proves every migration from an empty database, trusting no cache.</summary>
        public bool FullValidation { get; set; }

        public string CodeAnalysisRules { get; set; } = "";

        /// <summary>The project's NoWarn and WarningsAsErrors, so that the CLI writes no output a promoted warning fails.</summary>
        public string NoWarn { get; set; } = "";

        public string WarningsAsErrors { get; set; } = "";

        public string WarningsNotAsErrors { get; set; } = "";

        public bool TreatWarningsAsErrors { get; set; }

        /// <summary>SQL Server: MigrationModelServer; "false" builds every dacpac in a cold process and starts no model server.</summary>
        public string ModelServer { get; set; } = "";

        /// <summary>SQL Server: MigrationModelServerIdleTimeout, seconds.</summary>
        public string ModelServerIdleTimeout { get; set; } = "";

        protected override string ToolName => "dotnet";

        // Progress lines ("applying V3__add_index.sql …") are what a developer wants to see in a build that did work.
        protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.High;

        protected override bool ValidateParameters()
        {
            // A variable's name holds no '=' and every connection string does: the string itself was given where its
            // variable's name belongs. It must go no further, since MSBuild logs a tool's command line and response file.
            if (ConnectionVariable.IndexOf('=') >= 0)
            {
                Log.LogError(null, InvalidOptionCode, null, null, 0, 0, 0, 0,
                    "the connection variable must be the name of an environment variable that holds the connection string, not the " +
                    "connection string itself, which was not passed on (and is not repeated here). Set MigrationDevConnectionVariable " +
                    "(or MigrationStagingConnectionVariable) to a name such as MIGRATIONTASKS_DEV_CONNECTION, and put the connection string in that variable.");
                return false;
            }

            return base.ValidateParameters();
        }

        /// <summary>Only the CLI's MIG diagnostics become errors and warnings; every other line is a message.</summary>
        protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
        {
            if (DiagnosticLine.IsMatch(singleLine))
            {
                Log.LogMessageFromText(singleLine, messageImportance);
            }
            else
            {
                Log.LogMessage(messageImportance, "{0}", singleLine);
            }
        }

        /// <summary>
        /// A failing exit code after an error line needs no more words. Without one, the CLI crashed or was killed
        /// (its own failures print a MIG error first): ToolTask would only say that "dotnet" exited.
        /// </summary>
        protected override bool HandleTaskExecutionErrors()
        {
            if (Log.HasLoggedErrors)
            {
                return base.HandleTaskExecutionErrors();
            }

            Log.LogError(null, CliFailedWithoutErrorCode, null, null, 0, 0, 0, 0,
                "migrate " + Verb + " exited with code " + ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) +
                " but reported no error: it crashed or was stopped, and its output above is all it said. Build again; if it fails the same way, report that output.");
            return false;
        }

        protected override string GenerateFullPathToTool() =>
            string.IsNullOrEmpty(DotNetHost) ? ToolName : DotNetHost;

        protected override string GenerateCommandLineCommands() => Quote(CliPath);

        protected override string GenerateResponseFileCommands()
        {
            // One argument per line: the CLI's response-file reader splits on lines only, so paths may hold spaces.
            var lines = new List<string> { Verb };
            Add(lines, "engine", Engine);
            Add(lines, "connection-variable", ConnectionVariable);
            Add(lines, "dev-database", DevDatabase);
            Add(lines, "state-dir", StateDirectory);
            Add(lines, "junit", JUnitFile);
            Add(lines, "suite", SuiteName);
            Add(lines, "tests-always", TestsAlways ? "true" : "");
            Add(lines, "deployed-stamp", DeployedStamp);
            Add(lines, "lock-timeout", LockTimeout);
            Add(lines, "statement-lock-timeout", StatementLockTimeout);
            Add(lines, "report-dir", ReportDirectory);
            Add(lines, "findings-as-errors", FindingsAsErrors ? "true" : "");
            Add(lines, "publish-dir", PublishDirectory);
            Add(lines, "package-id", PackageId);
            Add(lines, "version", PackageVersion);
            Add(lines, "baseline", Baseline);
            Add(lines, "signing-certificate", SigningCertificate);
            Add(lines, "staging-report", StagingReport);
            Add(lines, "project-dir", ProjectDirectory);
            Add(lines, "out", OutputFile);
            Add(lines, "sql-server-version", SqlServerVersion);
            Add(lines, "dacpac", Dacpac);
            Add(lines, "allow-data-loss", AllowDataLoss ? "true" : "");
            Add(lines, "full-validation", FullValidation ? "true" : "");
            Add(lines, "database-name", DatabaseName);
            Add(lines, "analysis-rules", CodeAnalysisRules);
            Add(lines, "no-warn", OneLine(NoWarn));
            Add(lines, "warnings-as-errors", OneLine(WarningsAsErrors));
            Add(lines, "warnings-not-as-errors", OneLine(WarningsNotAsErrors));
            Add(lines, "treat-warnings-as-errors", TreatWarningsAsErrors ? "true" : "");
            if (Verb == "build-dacpac")
            {
                Add(lines, "model-server", string.Equals(ModelServer, "false", System.StringComparison.OrdinalIgnoreCase) ? "false" : "");
                Add(lines, "model-server-idle-timeout", ModelServerIdleTimeout);
                Add(lines, "model-server-host", ReusedNodeProcessId());
            }

            foreach (var item in SchemaFiles)
            {
                Add(lines, "schema", item.GetMetadata("FullPath"));
            }

            foreach (var item in PreDeploy)
            {
                Add(lines, "pre-deploy", item.GetMetadata("FullPath"));
            }

            foreach (var item in PostDeploy)
            {
                Add(lines, "post-deploy", item.GetMetadata("FullPath"));
            }

            foreach (var item in SqlCmdVariables)
            {
                var value = item.GetMetadata("Value");
                Add(lines, "sqlcmd-variable", item.ItemSpec + "=" + OneLine(string.IsNullOrEmpty(value) ? item.GetMetadata("DefaultValue") : value));
            }

            foreach (var item in Migrations)
            {
                Add(lines, "migration", item.GetMetadata("FullPath"));
            }

            foreach (var item in Tests)
            {
                Add(lines, "test", item.GetMetadata("FullPath"));
            }

            foreach (var item in Checks)
            {
                Add(lines, "check", item.GetMetadata("FullPath"));
            }

            foreach (var item in Verifies)
            {
                Add(lines, "verify", item.GetMetadata("FullPath"));
            }

            var text = new StringBuilder();
            foreach (var line in lines)
            {
                text.Append(line).Append('\n');
            }

            return text.ToString();
        }

        /// <summary>
        /// This process's id when it is an MSBuild node that stays after the build (node reuse, which `dotnet
        /// build-server shutdown` ends): the model server then ends with it. The entry process of `dotnet build`, which
        /// exits after every build, is no such node: the server then ends only by its idle timeout.
        /// </summary>
        private static string ReusedNodeProcessId()
        {
            var commandLine = System.Environment.CommandLine;
            var node = commandLine.IndexOf("nodemode:", System.StringComparison.OrdinalIgnoreCase) >= 0
                && commandLine.IndexOf("nodereuse:true", System.StringComparison.OrdinalIgnoreCase) >= 0;
            return node ? System.Diagnostics.Process.GetCurrentProcess().Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        }

        protected override string GetResponseFileSwitch(string responseFilePath) => Quote("@" + responseFilePath);

        protected override Encoding ResponseFileEncoding => new UTF8Encoding(false);

        private static void Add(List<string> lines, string name, string value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                lines.Add("--" + name);
                lines.Add(value);
            }
        }

        // A code list written over several lines in a project file must stay one argument of the response file.
        private static string OneLine(string codes) => codes.Replace('\r', ';').Replace('\n', ';');

        private static string Quote(string value) => value.Any(char.IsWhiteSpace) ? "\"" + value + "\"" : value;
    }
}
