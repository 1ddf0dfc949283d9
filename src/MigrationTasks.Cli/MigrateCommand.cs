using System.CommandLine;
using System.CommandLine.Help;
using MigrationTasks.Diagnostics;
using MigrationTasks.Release;

namespace MigrationTasks.Cli;

/// <summary>What runs a verb: its options parsed, a reporter on the output; its exit code when it decides one, else null.</summary>
internal delegate Task<RunnerExitCode?> VerbAction(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken);

/// <summary>
/// The <c>migrate</c> command line: the one list of verbs, each with its options (<see cref="CliOptions"/>) and what
/// runs it (<see cref="Verbs"/>). <c>migrate --help</c> and <c>migrate &lt;verb&gt; --help</c> print it. A usage
/// error (unknown verb or option, a missing or bad value) is MIG1001 and exit code 2, for every verb.
/// </summary>
internal static class MigrateCommand
{
    public const string Name = "migrate";

    /// <summary>The verbs, the targets' first (in the order a build runs them), then the release runner's.</summary>
    private static readonly Verb[] All =
    [
        new("check", "Checks the migrations offline: names, versions, duplicates, syntax. Touches no database. (dotnet build)",
            Runner: false, [CliOptions.Engine, CliOptions.Migration], Verbs.CheckAsync),
        new("build-dacpac", "SQL Server: compiles Schema/ into a dacpac with DacFx, offline; writes no dacpac when anything is an error. (dotnet build)",
            Runner: false,
            [
                CliOptions.Schema, CliOptions.DacpacOut, CliOptions.PreDeploy, CliOptions.PostDeploy, CliOptions.SqlCmdVariable, CliOptions.SqlServerVersion,
                CliOptions.DatabaseName, CliOptions.AnalysisRules, CliOptions.NoWarn, CliOptions.WarningsAsErrors, CliOptions.WarningsNotAsErrors,
                CliOptions.TreatWarningsAsErrors, CliOptions.ModelServer, CliOptions.ModelServerHost, CliOptions.ModelServerIdleTimeout,
            ],
            Verbs.BuildDacpacAsync),
        new("deploy-dev", "Deploys the migrations (SQL Server with a dacpac: the dacpac) to the dev database; with --junit, then runs the Tests/ queries as test does. (dotnet build)",
            Runner: false,
            [
                CliOptions.Engine, CliOptions.Migration, CliOptions.DevConnectionVariable, CliOptions.DevDatabase, CliOptions.StateDirectory, CliOptions.LockTimeout,
                CliOptions.Dacpac, CliOptions.SqlServerVersion, CliOptions.AllowDataLoss, CliOptions.FullValidation,
                CliOptions.Test, CliOptions.JUnitAfterDeploy, CliOptions.Suite, CliOptions.TestsAlways, CliOptions.DeployedStamp,
            ],
            Verbs.DeployDevAsync),
        new("test", "Deploys to the dev database as deploy-dev does, then runs the Tests/ queries and writes a JUnit report. (dotnet build)",
            Runner: false,
            [
                CliOptions.Engine, CliOptions.Migration, CliOptions.Test, CliOptions.JUnit, CliOptions.Suite, CliOptions.TestsAlways, CliOptions.DevConnectionVariable,
                CliOptions.DevDatabase, CliOptions.StateDirectory, CliOptions.LockTimeout, CliOptions.Dacpac, CliOptions.SqlServerVersion, CliOptions.AllowDataLoss,
            ],
            Verbs.TestAsync),
        new("validate-staging", "The staging gate: plan against staging, drift, data loss, Checks/, a rehearsal; writes staging-report.json and .md. (dotnet publish)",
            Runner: false,
            [
                CliOptions.Engine, CliOptions.Migration, CliOptions.Check, CliOptions.StagingConnectionVariable, CliOptions.StateDirectory,
                CliOptions.StagingReportDirectory, CliOptions.FindingsAsErrors, CliOptions.Baseline, CliOptions.Dacpac, CliOptions.DatabaseName,
                CliOptions.SqlServerVersion, CliOptions.AllowDataLoss,
            ],
            Verbs.ValidateStagingAsync),
        new("package", "Writes the release package: release/ (manifest, signature, scripts, checks, plan) and this runner beside it. (dotnet publish)",
            Runner: false,
            [
                CliOptions.Engine, CliOptions.Migration, CliOptions.Check, CliOptions.Verify, CliOptions.PublishDirectory, CliOptions.PackageId, CliOptions.Version,
                CliOptions.StateDirectory, CliOptions.Baseline, CliOptions.SigningCertificate, CliOptions.StagingReport, CliOptions.ProjectDirectory,
                CliOptions.StatementLockTimeout, CliOptions.Dacpac, CliOptions.Schema, CliOptions.DatabaseName, CliOptions.SqlServerVersion,
                CliOptions.AllowDataLoss, CliOptions.FindingsAsErrors,
            ],
            Verbs.PackageAsync),
        new("verify", "Checks the release's signature against the trusted signer and every file's hash. Touches no database.",
            Runner: true, [CliOptions.ReleaseDirectory, CliOptions.Trust, CliOptions.AllowUnsigned], Verbs.VerifyAsync),
        new("plan", "Read-only: the pre-state check, the exact SQL a deploy would run, the checks. The engine is the release's.",
            Runner: true, [CliOptions.ConnectionVariable, CliOptions.ReleaseDirectory, CliOptions.Trust, CliOptions.AllowUnsigned], Verbs.PlanAsync),
        new("deploy", "Deploys the release to production: verify, pre-state, window, checks, backup, migrate, Verify/, monitor; on a failure, " +
                      "rollback or restore. The engine is the release's. Report in --report-dir.",
            Runner: true,
            [
                CliOptions.ConnectionVariable, CliOptions.ReleaseDirectory, CliOptions.Trust, CliOptions.AllowUnsigned, CliOptions.BackupDirectory,
                CliOptions.ReportDirectory, CliOptions.LockTimeout, CliOptions.Window, CliOptions.MonitorSeconds, CliOptions.HashRows, CliOptions.LockWait,
                CliOptions.LockRetries, CliOptions.TransactionPerMigration, CliOptions.DiscardLaterWrites,
            ],
            Verbs.DeployAsync),
        new("restore", "Restores a backup a deploy took, under the deploy lock, and proves it; the deploy attempt that took it is recorded as restored.",
            Runner: true,
            [
                CliOptions.BackupEngine, CliOptions.ConnectionVariable, CliOptions.Backup, CliOptions.BackupDirectory, CliOptions.ReportDirectory,
                CliOptions.LockTimeout, CliOptions.DiscardLaterWrites,
            ],
            Verbs.RestoreAsync),
        new("resolve", "Records that a person dealt with a deploy attempt that needed one (who, when, why). Changes nothing else.",
            Runner: true, [CliOptions.Engine, CliOptions.ConnectionVariable, CliOptions.Reason, CliOptions.LockTimeout], Verbs.ResolveAsync),
        new("baseline", "Read-only: exports the database's migration history and schema (SQL Server: or a dacpac) for MigrationBaseline.",
            Runner: true, [CliOptions.Engine, CliOptions.ConnectionVariable, CliOptions.BaselineOut], Verbs.BaselineAsync),
    ];

    /// <summary>Internal, not in help: the long-lived process build-dacpac starts and talks to (ModelServer/DacpacServer).</summary>
    private static readonly Verb ModelServer = new(
        "model-server",
        "Internal: keeps SQL Server projects' DacFx models between builds for build-dacpac; started by it, ends after --idle-timeout.",
        Runner: false, [CliOptions.IdleTimeout, CliOptions.Prime, CliOptions.StopServer], Verbs.ModelServerAsync);

    private static readonly Lazy<Command> Root = new(Create);

    public static IReadOnlyList<string> VerbNames { get; } = [.. All.Select(v => v.Name)];

    /// <summary>The command tree (for tests: what parses, and its help).</summary>
    public static Command Command => Root.Value;

    /// <summary>
    /// Runs <paramref name="args"/> (<c>@file</c> response files expanded first) and returns the process's exit code.
    /// Everything, help included, goes to <paramref name="output"/>.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, CancellationToken cancellationToken)
    {
        var reporter = new Reporter(output);
        ParseResult parsed;
        try
        {
            parsed = Parse(args);
        }
        catch (DiagnosticException unreadable)
        {
            reporter.Report(unreadable.Diagnostics);
            return (int)RunnerExitCode.Refused;
        }

        // --help clears the parse errors: `migrate deploy --bogus --help` shows help.
        if (parsed.Errors.Count > 0)
        {
            UsageErrors.Report(parsed, Root.Value, reporter);
            return (int)RunnerExitCode.Refused;
        }

        return await parsed.InvokeAsync(
            new InvocationConfiguration
            {
                Output = output,
                Error = output,
                // Program.cs turns Ctrl+C, SIGTERM and SIGHUP into a graceful cancellation: no forced exit after a timeout.
                ProcessTerminationTimeout = null,
                // A verb's exceptions are handled by RunVerbAsync; anything else is a bug and should crash loudly.
                EnableDefaultExceptionHandler = false,
            },
            cancellationToken);
    }

    /// <summary>Parses without running: response files expanded (MIG1001 when one cannot be read), errors in the result.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args) => ParseExpanded(ResponseFiles.Expand(args));

    /// <summary>Parses arguments whose response files are expanded already (the model server gets a parsed command line's tokens).</summary>
    public static ParseResult ParseExpanded(IReadOnlyList<string> args) =>
        // System.CommandLine's own expansion would split a line at its spaces (a path with a space) and would expand an
        // '@' a line begins with.
        Root.Value.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    private static Command Create()
    {
        // A plain command rather than RootCommand, whose name is the host's (testhost, dotnet): help says `migrate`.
        var root = new Command(
            Name,
            "The MigrationTasks CLI. The package's MSBuild targets run the build verbs; a release package runs the runner verbs " +
            "(dotnet migrate.dll <verb> [options]). Options may also come from a response file, @file, one argument per line. " +
            "Exit codes: 0 done; 1 failed, and the database is back at its pre-state; 2 refused or a usage error, nothing touched; " +
            "3 failed, and the database needs a person.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        foreach (var verb in All.Append(ModelServer))
        {
            var command = new Command(verb.Name, verb.Description) { Hidden = verb == ModelServer };
            foreach (var option in verb.Options)
            {
                command.Add(option);
            }

            command.SetAction((arguments, cancellationToken) => RunVerbAsync(verb, arguments, cancellationToken));
            root.Add(command);
        }

        return root;
    }

    private static async Task<int> RunVerbAsync(Verb verb, ParseResult arguments, CancellationToken cancellationToken)
    {
        var reporter = new Reporter(arguments.InvocationConfiguration.Output);
        // A verb that knows better (the release runner's verbs) says which exit code; the others exit 0 or 1 by their errors.
        RunnerExitCode? exitCode = null;
        try
        {
            exitCode = await verb.Run(arguments, reporter, cancellationToken);
        }
        catch (DiagnosticException e)
        {
            reporter.Report(e.Diagnostics);
            // A runner verb stopped by bad options or an unreachable database has touched nothing: say so with exit code 2.
            // A usage error found by the verb (MIG1001: an option's value it could only judge now) is exit code 2 for every verb.
            if (verb.Runner || e.Diagnostics.All(d => d.Code == DiagnosticCodes.InvalidOption))
            {
                exitCode = RunnerExitCode.Refused;
            }
        }
        catch (OperationCanceledException)
        {
            reporter.Report(Diagnostic.Error(DiagnosticCodes.InvalidOption, "cancelled before the verb finished."));
        }

        return (int)(exitCode ?? (reporter.ErrorCount == 0 ? RunnerExitCode.Succeeded : RunnerExitCode.Failed));
    }

    /// <param name="Runner">A release runner's verb: any problem before it starts refuses with exit code 2.</param>
    private sealed record Verb(string Name, string Description, bool Runner, Option[] Options, VerbAction Run);
}
