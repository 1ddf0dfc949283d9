using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Reflection;
using MigrationTasks.Diagnostics;
using MigrationTasks.Migrations;
using MigrationTasks.Production;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.Cli;

/// <summary>
/// Every option of the <c>migrate</c> CLI, with its type, description and default: the one place they are documented
/// (<c>migrate &lt;verb&gt; --help</c> prints them). <see cref="MigrateCommand"/> says which verb takes which. An option
/// whose meaning or default differs between verbs is a separate option here, with the same name.
/// Values are checked as they are parsed, so a bad one is a usage error (MIG1001, exit code 2) before any work.
/// </summary>
internal static class CliOptions
{
    /// <summary>The CLI's engine when none is given: the targets' <c>MigrationEngine</c> default (build/MigrationTasks.targets).</summary>
    public const string DefaultEngine = EngineCatalog.DefaultName;

    private static readonly IReadOnlyList<string> Engines = EngineCatalog.Names;

    // Engine and connection. A connection string never travels on a command line: options name the variable holding it.

    public static readonly Option<string> Engine = new("--engine")
    {
        Description = $"The database engine: {string.Join(" or ", Engines)} (MigrationEngine).",
        HelpName = "engine",
        DefaultValueFactory = _ => DefaultEngine,
        CustomParser = ParseEngine,
    };

    public static readonly Option<string?> BackupEngine = new("--engine")
    {
        Description = $"The engine that took the backup: {string.Join(" or ", Engines)}. Default: the engine the backup's metadata records " +
                      "(required for a backup whose metadata records none: one taken before the engine was recorded).",
        HelpName = "engine",
        CustomParser = ParseEngine,
    };

    public static readonly Option<string> ConnectionVariable = new("--connection-variable")
    {
        Description = "The environment variable that holds the database's connection string (its name; the string itself never goes on a command line).",
        HelpName = "VAR",
        Required = true,
    };

    public static readonly Option<string> DevConnectionVariable = new("--connection-variable")
    {
        Description = "The environment variable that holds the dev database's connection string (MigrationDevConnectionVariable).",
        HelpName = "VAR",
        DefaultValueFactory = _ => "MIGRATIONTASKS_DEV_CONNECTION",
    };

    public static readonly Option<string> StagingConnectionVariable = new("--connection-variable")
    {
        Description = "The environment variable that holds staging's connection string (MigrationStagingConnectionVariable).",
        HelpName = "VAR",
        DefaultValueFactory = _ => "MIGRATIONTASKS_STAGING_CONNECTION",
    };

    public static readonly Option<string> DevDatabase = new("--dev-database")
    {
        Description = "auto: the connection variable when set, else a throwaway local database where one can be started, else skip " +
                      "with a warning; none: never deploy at build (MigrationDevDatabase).",
        HelpName = "auto|none",
        DefaultValueFactory = _ => "auto",
        CustomParser = result => Single(result) switch
        {
            var mode when mode.Equals("auto", StringComparison.OrdinalIgnoreCase) || mode.Equals("none", StringComparison.OrdinalIgnoreCase) => mode.ToLowerInvariant(),
            var mode => Error(result, $"MigrationDevDatabase '{mode}' is not 'auto' or 'none'.", ""),
        },
    };

    // Project files (the targets pass the items; repeat the option once per file).

    public static readonly Option<string[]> Migration = Files("--migration", "A versioned (V…__…sql), repeatable (R__…sql) or undo (U…__…sql) migration. Repeat per file.");

    public static readonly Option<string[]> Test = Files("--test", "A Tests/ query: passes when it runs and its last result set has no rows. Repeat per file.");

    public static readonly Option<string[]> Check = Files("--check", "A Checks/ query run before migrating: passes with no rows. Repeat per file.");

    public static readonly Option<string[]> Verify = Files("--verify", "A Verify/ query run after migrating: passes with no rows. Repeat per file.");

    public static readonly Option<string[]> Schema = Files("--schema", "SQL Server: a Schema/ file of the desired state, compiled into the dacpac. Repeat per file.");

    public static readonly Option<string[]> PreDeploy = Files("--pre-deploy", "SQL Server: the pre-deployment script (at most one).");

    public static readonly Option<string[]> PostDeploy = Files("--post-deploy", "SQL Server: the post-deployment script (at most one).");

    public static readonly Option<string[]> SqlCmdVariable = new("--sqlcmd-variable")
    {
        Description = "SQL Server: a SQLCMD variable of the dacpac, name=value. Repeat per variable.",
        HelpName = "name=value",
    };

    public static readonly Option<string> StateDirectory = new("--state-dir")
    {
        Description = "The build's state folder (stamps, throwaway servers, generated scripts).",
        HelpName = "dir",
        DefaultValueFactory = _ => Path.Combine("obj", "migrationtasks"),
    };

    // SQL Server's state-based projects.

    public static readonly Option<string?> Dacpac = new("--dacpac")
    {
        Description = "SQL Server: the project's dacpac (Schema/ built); with it the project is state-based and Migrations/ are ignored.",
        HelpName = "file",
    };

    public static readonly Option<string> DacpacOut = new("--out")
    {
        Description = "The dacpac to write.",
        HelpName = "file",
        Required = true,
    };

    public static readonly Option<SqlServerPlatform> SqlServerVersion = new("--sql-server-version")
    {
        Description = $"SQL Server: the target platform ({string.Join(", ", SqlServerPlatform.Names)}, or an SSDT DSP) (MigrationSqlServerVersion).",
        HelpName = "version",
        DefaultValueFactory = _ => SqlServerPlatform.Default,
        CustomParser = result =>
        {
            try
            {
                return SqlServerPlatform.Parse(Single(result));
            }
            catch (DiagnosticException e)
            {
                return Error(result, e.Diagnostics[0].Message, SqlServerPlatform.Default);
            }
        },
    };

    public static readonly Option<string?> DatabaseName = new("--database-name")
    {
        Description = "SQL Server: the database's name in the dacpac and its scripts (MigrationDatabaseName). Default: the dacpac's or package's name.",
        HelpName = "name",
    };

    public static readonly Option<bool> FullValidation = new("--full-validation")
    {
        Description = "Prove every migration from an empty shadow database, trusting no cached state (MigrationFullValidation: CI, publish).",
    };

    public static readonly Option<bool> AllowDataLoss = new("--allow-data-loss")
    {
        Description = "SQL Server: the deploy script may drop tables and columns with their data (MigrationAllowDataLoss).",
    };

    public static readonly Option<string?> AnalysisRules = new("--analysis-rules")
    {
        Description = "SQL Server: code analysis rules, e.g. -SR0001;+!SR0005 (MigrationCodeAnalysisRules).",
        HelpName = "rules",
    };

    public static readonly Option<string?> NoWarn = new("--no-warn") { Description = "Warning codes to leave out (the project's MSBuildWarningsAsMessages).", HelpName = "codes" };

    public static readonly Option<string?> WarningsAsErrors = new("--warnings-as-errors") { Description = "Warning codes to report as errors.", HelpName = "codes" };

    public static readonly Option<string?> WarningsNotAsErrors = new("--warnings-not-as-errors") { Description = "Warning codes to keep as warnings.", HelpName = "codes" };

    public static readonly Option<bool> TreatWarningsAsErrors = new("--treat-warnings-as-errors") { Description = "Report every warning as an error." };

    // The model server (build-dacpac's warm path, see ModelServer/DacpacServer).

    public static readonly Option<bool> ModelServer = new("--model-server")
    {
        Description = "SQL Server: build through the model server that keeps the DacFx model between builds, and start one after a cold build " +
                      "(MigrationModelServer; the variable MIGRATIONTASKS_MODEL_SERVER=0 turns it off too).",
        HelpName = "true|false",
        DefaultValueFactory = _ => true,
    };

    public static readonly Option<int> ModelServerHost = new("--model-server-host")
    {
        Description = "The MSBuild node that runs this build, when it stays after the build (node reuse): the model server ends with it.",
        HelpName = "process-id",
        CustomParser = result => int.TryParse(Single(result), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : Error(result, $"--model-server-host '{Single(result)}' is not a process id.", 0),
    };

    public static readonly Option<double?> ModelServerIdleTimeout = Seconds(
        "--model-server-idle-timeout",
        "Seconds a model server started by this build waits for the next one before it ends (MigrationModelServerIdleTimeout).",
        TimeSpan.FromMinutes(10));

    public static readonly Option<double?> IdleTimeout = Seconds("--idle-timeout", "Seconds without a request after which the server ends.", TimeSpan.FromMinutes(10));

    public static readonly Option<string?> Prime = new("--prime")
    {
        Description = "A file with a working folder and build-dacpac arguments, one a line, built once at start into a scratch file (then deleted).",
        HelpName = "file",
    };

    public static readonly Option<bool> StopServer = new("--stop") { Description = "Stops the running model server of this CLI, if any, and exits." };

    // Dev loop and staging.

    public static readonly Option<double?> LockTimeout = Seconds(
        "--lock-timeout",
        "Seconds to wait for the deploy lock another deploy holds (MigrationLockTimeout).",
        MigrationRunner.DefaultLockWait);

    public static readonly Option<string> JUnit = new("--junit")
    {
        Description = "The JUnit XML report the tests write (MigrationTestReport).",
        HelpName = "file",
        Required = true,
    };

    /// <summary>deploy-dev's --junit: optional there; given, the tests run right after the deploy, in the same process.</summary>
    public static readonly Option<string?> JUnitAfterDeploy = new("--junit")
    {
        Description = "Run the --test queries right after the deploy, as the test verb does, and write this JUnit report (what `dotnet build` does when it deploys).",
        HelpName = "file",
    };

    public static readonly Option<string?> DeployedStamp = new("--deployed-stamp")
    {
        Description = "A file written once the deploy succeeded, before the tests run (the build's deploy stamp).",
        HelpName = "file",
    };

    public static readonly Option<string> Suite = new("--suite")
    {
        Description = "The test suite's name in the JUnit report.",
        HelpName = "name",
        DefaultValueFactory = _ => "MigrationTests",
    };

    public static readonly Option<bool> TestsAlways = new("--tests-always")
    {
        Description = "Run every test, not only those new, changed or failed last time while the dev database is unchanged (MigrationTestsAlways).",
    };

    public static readonly Option<string> StagingReportDirectory = new("--report-dir")
    {
        Description = "Where staging-report.json and staging-report.md are written (MigrationReportDirectory).",
        HelpName = "dir",
        Required = true,
    };

    public static readonly Option<bool> FindingsAsErrors = new("--findings-as-errors")
    {
        Description = "Staging findings (drift, data loss, failed checks) are errors, not warnings (MigrationTreatFindingsAsErrors).",
    };

    public static readonly Option<string?> Baseline = new("--baseline")
    {
        Description = "Production's exported state, from `migrate baseline` (MigrationBaseline). Default: none, a release to an empty database.",
        HelpName = "file",
    };

    // Packaging a release.

    public static readonly Option<string> PublishDirectory = new("--publish-dir")
    {
        Description = "Where release/ is written, replacing an earlier one.",
        HelpName = "dir",
        Required = true,
    };

    public static readonly Option<string> PackageId = new("--package-id")
    {
        Description = "The release's package id.",
        HelpName = "id",
        Required = true,
    };

    public static readonly Option<string> Version = new("--version")
    {
        Description = "The release's version.",
        HelpName = "version",
        DefaultValueFactory = _ => "1.0.0",
    };

    public static readonly Option<string?> SigningCertificate = new("--signing-certificate")
    {
        Description = "A PFX or PEM certificate with its key that signs the release; its password comes from MIGRATIONTASKS_SIGNING_PASSWORD. Default: unsigned.",
        HelpName = "file",
    };

    public static readonly Option<string?> StagingReport = new("--staging-report")
    {
        Description = "staging-report.json of this publish, summarised in the release.",
        HelpName = "file",
    };

    public static readonly Option<string?> ProjectDirectory = new("--project-dir")
    {
        Description = "The database project's folder, for the git revision the release records.",
        HelpName = "dir",
    };

    public static readonly Option<double?> StatementLockTimeout = Seconds(
        "--statement-lock-timeout",
        "Seconds one statement may wait for a table lock on production, carried in the manifest (MigrationStatementLockTimeout; 0: no limit). " +
        $"Default: the runner's, {LockWaitPolicy.Default.Timeout!.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture)}.");

    // The release runner.

    public static readonly Option<string?> ReleaseDirectory = new("--release-dir")
    {
        Description = $"The release to verify or deploy. Default: {ReleaseLayout.FolderName}/ beside this migrate.dll.",
        HelpName = "dir",
    };

    public static readonly Option<string?> Trust = new("--trust")
    {
        Description = "The signer to trust: its certificate file (.pem, .cer) or SHA-256 thumbprint.",
        HelpName = "cert|thumbprint",
    };

    public static readonly Option<bool> AllowUnsigned = new("--allow-unsigned")
    {
        Description = "Accept a release whose signer is not checked (unsigned, or no --trust), with a warning. Every file's hash is still checked.",
    };

    public static readonly Option<string> BackupDirectory = new("--backup-dir")
    {
        Description = "Where backups are written and found (each a dump and <id>.json).",
        HelpName = "dir",
        DefaultValueFactory = _ => ReleaseLayout.DefaultBackupFolder,
    };

    public static readonly Option<string> ReportDirectory = new("--report-dir")
    {
        Description = "Where report.json and report.md are written.",
        HelpName = "dir",
        DefaultValueFactory = _ => ReleaseLayout.DefaultReportFolder,
    };

    public static readonly Option<MaintenanceWindow?> Window = new("--window")
    {
        Description = "A daily UTC window, HH:mm-HH:mm (may wrap midnight): a deploy started outside it is refused. Default: any time.",
        HelpName = "HH:mm-HH:mm",
        CustomParser = result =>
        {
            try
            {
                return MaintenanceWindow.Parse(Single(result));
            }
            catch (DiagnosticException e)
            {
                return Error<MaintenanceWindow?>(result, e.Diagnostics[0].Message, null);
            }
        },
    };

    public static readonly Option<double?> MonitorSeconds = Seconds(
        "--monitor-seconds",
        "Seconds to keep running Verify/ after the deploy, watching for a failure (0: no monitoring).",
        TimeSpan.Zero);

    public static readonly Option<bool> HashRows = new("--hash-rows")
    {
        Description = "Also hash every table's rows at backup, so that a restore proves their contents, not only their counts (slower).",
    };

    public static readonly Option<double?> LockWait = Seconds(
        "--lock-wait",
        "Seconds one statement may wait for a table lock before the runner rolls back and tries again (0: no limit). " +
        $"Default: the release's MigrationStatementLockTimeout, else {LockWaitPolicy.Default.Timeout!.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture)}.");

    public static readonly Option<int> LockRetries = new("--lock-retries")
    {
        Description = "Tries after the first when a statement gave up waiting for a lock, 0 to 100.",
        HelpName = "count",
        DefaultValueFactory = _ => LockWaitPolicy.Default.Tries - 1,
        CustomParser = result => int.TryParse(Single(result), NumberStyles.None, CultureInfo.InvariantCulture, out var retries) && retries is >= 0 and <= 100
            ? retries
            : Error(result, $"--lock-retries '{Single(result)}' is not a whole number from 0 to 100.", 0),
    };

    public static readonly Option<bool> TransactionPerMigration = new("--transaction-per-migration")
    {
        Description = "Commit each migration in its own transaction instead of the whole release in one.",
    };

    public static readonly Option<bool> DiscardLaterWrites = new("--discard-later-writes")
    {
        Description = "Restore even though other sessions wrote since the backup, losing their writes.",
    };

    public static readonly Option<string> Backup = new("--backup")
    {
        Description = "The backup's id (report.md names it, e.g. shop-20261125T101500Z-1a2b3c).",
        HelpName = "id",
        Required = true,
    };

    public static readonly Option<string> Reason = new("--reason")
    {
        Description = "What a person did to the database, for the record.",
        HelpName = "text",
        Required = true,
    };

    public static readonly Option<string> BaselineOut = new("--out")
    {
        Description = "The file to write: .json (history and schema snapshot); SQL Server: .dacpac for a dacpac of the schema.",
        HelpName = "file",
        Required = true,
    };

    /// <summary>
    /// Given twice, an option's last value counts, as it always did: a script may put a default first and its caller's
    /// value after it (<c>--lock-wait 0 … --lock-wait 2</c>). Repeatable options (files) keep every value.
    /// </summary>
    static CliOptions()
    {
        foreach (var option in typeof(CliOptions).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.GetValue(null)).OfType<Option>())
        {
            if (option.Arity.MaximumNumberOfValues != 1)
            {
                continue;
            }

            option.Arity = option.Arity.MinimumNumberOfValues == 0 ? ArgumentArity.ZeroOrMore : ArgumentArity.OneOrMore;
            switch (option)
            {
                case Option<string> { CustomParser: null } text:
                    text.CustomParser = Single;
                    break;
                case Option<bool> flag:
                    flag.CustomParser = result => result.Tokens.Count == 0
                        || (bool.TryParse(Single(result), out var value)
                            ? value
                            : Error(result, $"{flag.Name} '{Single(result)}' is not true or false.", false));
                    break;
            }
        }
    }

    private static Option<string[]> Files(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "file",
    };

    /// <summary>
    /// An option that counts seconds (a number, fractions allowed, not negative); a value that is not one is refused,
    /// naming the option. Null when the option is absent and has no default.
    /// </summary>
    private static Option<double?> Seconds(string name, string description, TimeSpan? defaultValue = null)
    {
        var option = new Option<double?>(name)
        {
            Description = description,
            HelpName = "seconds",
            CustomParser = result => double.TryParse(Single(result), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && double.IsFinite(seconds)
                ? seconds
                : Error<double?>(result, $"{name} '{Single(result)}' is not a number of seconds.", null),
        };
        if (defaultValue is { } value)
        {
            option.DefaultValueFactory = _ => value.TotalSeconds;
        }

        return option;
    }

    private static string ParseEngine(ArgumentResult result) =>
        Engines.FirstOrDefault(e => e.Equals(Single(result), StringComparison.OrdinalIgnoreCase))
        ?? Error(result, $"MigrationEngine '{Single(result)}' is not supported; use {string.Join(" or ", Engines)}.", "");

    private static string Single(ArgumentResult result) => result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;

    private static T Error<T>(ArgumentResult result, string message, T placeholder)
    {
        result.AddError(message);
        return placeholder;
    }
}
