using System.CommandLine;
using MigrationTasks.Cli.ModelServer;
using MigrationTasks.Dev;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Production;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.Staging;

namespace MigrationTasks.Cli;

/// <summary>
/// The verbs the MSBuild targets call, and the release runner's verbs. Each reads its options, runs one step of
/// Core's flow and leaves diagnostics on standard output; nothing here knows about MSBuild beyond the canonical line
/// format.
/// </summary>
internal static class Verbs
{
    // The build verbs, which the package's targets run (MigrationTool): each exits 0 or 1 by its errors.

    /// <summary><c>migrate check</c>: the migrations' names, versions and syntax, offline.</summary>
    public static Task<RunnerExitCode?> CheckAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        new DevLoop(Engine(arguments), reporter).Check(arguments.GetValue(CliOptions.Migration)!);
        return NoExitCode;
    }

    /// <summary><c>migrate build-dacpac</c>: SQL Server only, offline: the dacpac of Schema/ (its options say everything the build needs).</summary>
    /// Through the model server when one of this CLI runs (the same build on a kept model); else cold, in this process,
    /// and then a server is started for the next build.
    public static Task<RunnerExitCode?> BuildDacpacAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var useServer = DacpacServerClient.Enabled(arguments.GetValue(CliOptions.ModelServer));
        var server = new DacpacServerClient(DacpacServerAddress.ForThisCli(), reporter);
        // The tokens are the command line with response files expanded: the server parses them as this process did.
        var commandLine = arguments.Tokens.Select(t => t.Value).ToList();
        if (useServer && server.TryBuild(commandLine, arguments.GetValue(CliOptions.ModelServerHost)) is { } served)
        {
            foreach (var line in served.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                reporter.Info(line.TrimEnd('\r'));
            }

            return Task.FromResult<RunnerExitCode?>((RunnerExitCode)served.ExitCode);
        }

        new DacpacBuilder(reporter).Build(DacpacBuildOptions(arguments));
        if (useServer)
        {
            server.Start(commandLine, TimeSpan.FromSeconds(arguments.GetValue(CliOptions.ModelServerIdleTimeout)!.Value));
        }

        return NoExitCode;
    }

    /// <summary><c>migrate model-server</c> (internal): serves build-dacpac until idle (see <see cref="DacpacServer"/>); --stop stops the running one.</summary>
    public static async Task<RunnerExitCode?> ModelServerAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var address = DacpacServerAddress.ForThisCli();
        if (arguments.GetValue(CliOptions.StopServer))
        {
            reporter.Info(new DacpacServerClient(address, reporter).Stop() ? "The model server stopped." : "No model server was running.");
            return RunnerExitCode.Succeeded;
        }

        using var server = new DacpacServer(address, TimeSpan.FromSeconds(arguments.GetValue(CliOptions.IdleTimeout)!.Value));
        return (RunnerExitCode)await server.RunAsync(arguments.GetValue(CliOptions.Prime), cancellationToken);
    }

    /// <summary><c>migrate deploy-dev</c>: the migrations (or the dacpac) on the dev database.</summary>
    public static async Task<RunnerExitCode?> DeployDevAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var engine = Engine(arguments);
        await new DevLoop(engine, reporter).DeployAsync(DevOptions(engine, arguments, reporter, reportIgnoredMigrations: true), cancellationToken,
            DevTests(arguments, arguments.GetValue(CliOptions.JUnitAfterDeploy), arguments.GetValue(CliOptions.DeployedStamp)));
        return null;
    }

    /// <summary><c>migrate test</c>: the dev deploy, then Tests/ (those whose inputs changed, unless --tests-always), into a JUnit report.</summary>
    public static async Task<RunnerExitCode?> TestAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var engine = Engine(arguments);
        await new DevLoop(engine, reporter).TestAsync(DevOptions(engine, arguments, reporter, reportIgnoredMigrations: false), DevTests(arguments, arguments.GetValue(CliOptions.JUnit)!, deployedStamp: null)!, cancellationToken);
        return null;
    }

    /// <summary><c>migrate validate-staging</c>: the staging gate.</summary>
    public static async Task<RunnerExitCode?> ValidateStagingAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var engine = Engine(arguments);
        var staging = new StagingOptions(
            arguments.GetValue(CliOptions.Migration)!,
            arguments.GetValue(CliOptions.Check)!,
            arguments.GetValue(CliOptions.StagingConnectionVariable)!,
            arguments.GetValue(CliOptions.StateDirectory)!,
            arguments.GetValue(CliOptions.StagingReportDirectory)!,
            arguments.GetValue(CliOptions.FindingsAsErrors));
        var validator = new StagingValidator(engine, reporter);
        if (ModelProject(engine, arguments, reporter) is { } model)
        {
            // State-based: staging against the baseline model, and the release's own generated script rehearsed.
            await validator.ValidateAsync(staging, model.StagingSource, cancellationToken);
        }
        else
        {
            await validator.ValidateAsync(staging, cancellationToken);
        }

        return null;
    }

    /// <summary><c>migrate package</c>: the release package.</summary>
    public static async Task<RunnerExitCode?> PackageAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var engine = Engine(arguments);
        if (ModelProject(engine, arguments, reporter) is { } model)
        {
            // State-based: the script the engine generates against the baseline model, not the Migrations/ files.
            model.WriteRelease(PackageOptions(arguments));
        }
        else
        {
            await new ReleaseWriter(engine, reporter).WriteAsync(PackageOptions(arguments), cancellationToken);
        }

        return null;
    }

    // The release runner's verbs: each says its exit code (design §3).

    /// <summary><c>migrate verify</c>: before any engine is chosen; verifying a package touches no database.</summary>
    public static Task<RunnerExitCode?> VerifyAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken) =>
        Task.FromResult<RunnerExitCode?>(Verify(arguments, reporter));

    /// <summary><c>migrate resolve --reason "…"</c>: a person says a deploy attempt that needed one was dealt with.</summary>
    public static async Task<RunnerExitCode?> ResolveAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken) =>
        await new ProductionRunner(Engine(arguments), reporter)
            .ResolveAsync(arguments.GetValue(CliOptions.ConnectionVariable)!, arguments.GetValue(CliOptions.Reason)!, LockWait(arguments), cancellationToken);

    /// <summary><c>migrate baseline</c>: a dacpac for <c>--engine SqlServer --out FILE.dacpac</c>, else history and schema.</summary>
    public static async Task<RunnerExitCode?> BaselineAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var engine = Engine(arguments);
        // A model file the engine knows by its extension (SQL Server: .dacpac), else history and schema.
        if (await engine.TryExportModelBaselineAsync(DatabaseToExport(arguments), arguments.GetValue(CliOptions.BaselineOut)!, cancellationToken) is { } exported)
        {
            reporter.Info(exported);
        }
        else
        {
            await BaselineAsync(engine, arguments, reporter, cancellationToken);
        }

        return null;
    }

    /// <summary>The tests the options name (--junit says there are), or null: deploy-dev then deploys only.</summary>
    private static DevTests? DevTests(ParseResult arguments, string? junit, string? deployedStamp) =>
        junit is { Length: > 0 }
            ? new DevTests(
                arguments.GetValue(CliOptions.Test)!,
                junit,
                arguments.GetValue(CliOptions.Suite)!,
                arguments.GetValue(CliOptions.TestsAlways),
                deployedStamp)
            : null;

    private static readonly Task<RunnerExitCode?> NoExitCode = Task.FromResult<RunnerExitCode?>(null);

    /// <summary>
    /// <c>migrate verify</c>: the package beside this migrate.dll (or --release-dir) against the trusted signer.
    /// Any problem refuses it with exit code 2, before any database is touched.
    /// </summary>
    private static RunnerExitCode Verify(ParseResult arguments, Reporter reporter)
    {
        var result = VerifyRelease(arguments);
        reporter.Report(result.Diagnostics);
        if (!result.Passed)
        {
            reporter.Info($"Release package refused (exit code 2): {result.Diagnostics.Count(d => d.IsError)} problem(s) in {result.ReleaseDirectory}.");
            return RunnerExitCode.Refused;
        }

        reporter.Info($"Release package verified: {result.Manifest!.PackageId} {result.Manifest.Version}, {result.Manifest.Files.Count} file(s) in release/ " +
                      $"and {result.Manifest.PackageFiles.Count} beside it (the runner) match {ReleaseLayout.ManifestName}; " +
                      (result.Signer is null ? "signer not checked (--allow-unsigned)." : $"signed by {result.Signer}."));
        return RunnerExitCode.Succeeded;
    }

    /// <summary>
    /// <c>migrate deploy</c>: the production path of the seed for the package beside this migrate.dll. The exit code
    /// says what state the database is in (design §3); report.md says which path was taken.
    /// </summary>
    public static async Task<RunnerExitCode?> DeployAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var verification = VerifyRelease(arguments);
        var options = new DeployOptions(
            arguments.GetValue(CliOptions.ConnectionVariable)!,
            Path.GetFullPath(arguments.GetValue(CliOptions.BackupDirectory)!),
            Path.GetFullPath(arguments.GetValue(CliOptions.ReportDirectory)!),
            LockWait(arguments),
            arguments.GetValue(CliOptions.Window),
            Seconds(arguments, CliOptions.MonitorSeconds) ?? TimeSpan.Zero,
            arguments.GetValue(CliOptions.HashRows),
            StatementLocks(arguments, verification.Manifest?.StatementLockTimeout),
            arguments.GetValue(CliOptions.TransactionPerMigration),
            arguments.GetValue(CliOptions.DiscardLaterWrites));
        // The engine is the signed manifest's; a release without a readable manifest is refused before any connection.
        var report = await new ProductionRunner(Engine(verification.Manifest?.Engine ?? CliOptions.DefaultEngine), reporter)
            .DeployAsync(
                () =>
                {
                    reporter.Report(verification.Diagnostics.Where(d => !d.IsError));
                    return ReleaseToDeploy.From(verification);
                },
                options,
                cancellationToken);
        return report.Exit;
    }

    /// <summary><c>migrate plan</c>: read-only; the pre-state check, the exact SQL a deploy would run, the checks.</summary>
    public static async Task<RunnerExitCode?> PlanAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var verification = VerifyRelease(arguments);
        reporter.Report(verification.Diagnostics);
        if (!verification.Passed)
        {
            return RunnerExitCode.Refused;
        }

        return await new ProductionRunner(Engine(verification.Manifest!.Engine), reporter)
            .PlanAsync(ReleaseToDeploy.From(verification), arguments.GetValue(CliOptions.ConnectionVariable)!, arguments.InvocationConfiguration.Output, cancellationToken);
    }

    /// <summary>
    /// <c>migrate restore --backup ID</c>: restore a backup a deploy took, with the same proof, by the engine that took
    /// it (its metadata says which; --engine when it does not).
    /// </summary>
    public static async Task<RunnerExitCode?> RestoreAsync(ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var backupDirectory = Path.GetFullPath(arguments.GetValue(CliOptions.BackupDirectory)!);
        var backupId = arguments.GetValue(CliOptions.Backup)!;
        var report = await new ProductionRunner(Engine(EngineOfBackup(arguments.GetValue(CliOptions.BackupEngine), backupDirectory, backupId)), reporter).RestoreAsync(
            arguments.GetValue(CliOptions.ConnectionVariable)!,
            backupDirectory,
            backupId,
            Path.GetFullPath(arguments.GetValue(CliOptions.ReportDirectory)!),
            LockWait(arguments),
            arguments.GetValue(CliOptions.DiscardLaterWrites),
            cancellationToken);
        return report.Exit;
    }

    /// <summary>
    /// The engine a restore runs with: the one the backup's metadata records; --engine only for metadata that records
    /// none. A backup that cannot be read is left to the runner, which refuses it (MIG6007, with its report) before it
    /// uses the engine or connects.
    /// </summary>
    private static string EngineOfBackup(string? given, string backupDirectory, string backupId)
    {
        string? recorded;
        try
        {
            recorded = NullIfEmpty(DatabaseBackup.Load(backupDirectory, backupId).Engine);
        }
        catch (DiagnosticException)
        {
            return given ?? CliOptions.DefaultEngine;
        }

        return (given, recorded) switch
        {
            (null, null) => throw Invalid(
                $"backup {backupId} does not say which engine took it (its metadata was written before backups recorded their engine): " +
                "pass --engine SqlServer or --engine PostgreSql, the engine of the database it was taken of. Nothing was touched."),
            (null, { } engine) => engine,
            ({ } engine, null) => engine,
            ({ } engine, { } taken) when engine.Equals(taken, StringComparison.OrdinalIgnoreCase) => taken,
            ({ } engine, { } taken) => throw Invalid(
                $"--engine {engine} does not match backup {backupId}, which {taken} took (its metadata says so). Nothing was touched: " +
                "leave --engine out to restore it with the engine that took it, or check --backup."),
        };
    }

    /// <summary>
    /// --lock-wait (seconds one statement may wait for a table lock; 0: no limit) and --lock-retries (tries after the
    /// first): how a deploy keeps an ALTER from queueing the application behind a long reader. Without --lock-wait,
    /// the release's MigrationStatementLockTimeout (from its manifest), else the default.
    /// </summary>
    private static LockWaitPolicy StatementLocks(ParseResult arguments, TimeSpan? fromRelease)
    {
        var defaults = LockWaitPolicy.Default;
        var wait = Seconds(arguments, CliOptions.LockWait) ?? fromRelease ?? defaults.Timeout;
        var timeout = wait == TimeSpan.Zero ? null : wait;
        var tries = arguments.GetValue(CliOptions.LockRetries) + 1;
        return defaults with { Timeout = timeout, Tries = timeout is null ? 1 : tries };
    }

    private static ReleaseVerification VerifyRelease(ParseResult arguments) => ReleaseVerifier.Verify(
        arguments.GetValue(CliOptions.ReleaseDirectory) ?? Path.Combine(AppContext.BaseDirectory, ReleaseLayout.FolderName),
        arguments.GetValue(CliOptions.Trust),
        arguments.GetValue(CliOptions.AllowUnsigned));

    private static TimeSpan LockWait(ParseResult arguments) => Seconds(arguments, CliOptions.LockTimeout) ?? MigrationRunner.DefaultLockWait;

    /// <summary>An option that counts seconds (checked as it was parsed), as a time span; null when absent without a default.</summary>
    private static TimeSpan? Seconds(ParseResult arguments, Option<double?> option) =>
        arguments.GetValue(option) is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    private static ReleaseOptions PackageOptions(ParseResult arguments) => new(
        arguments.GetValue(CliOptions.Migration)!,
        arguments.GetValue(CliOptions.Check)!,
        arguments.GetValue(CliOptions.Verify)!,
        arguments.GetValue(CliOptions.PublishDirectory)!,
        arguments.GetValue(CliOptions.PackageId)!,
        arguments.GetValue(CliOptions.Version)!,
        arguments.GetValue(CliOptions.StateDirectory)!,
        arguments.GetValue(CliOptions.Baseline),
        arguments.GetValue(CliOptions.SigningCertificate),
        arguments.GetValue(CliOptions.StagingReport),
        arguments.GetValue(CliOptions.ProjectDirectory),
        // The runner packaged is this CLI's own folder, wherever MigrationCliPath pointed (a dev build in tests).
        AppContext.BaseDirectory,
        Seconds(arguments, CliOptions.StatementLockTimeout));

    /// <summary><c>migrate baseline</c>: production's history and schema, read-only, into a MigrationBaseline file.</summary>
    private static async Task BaselineAsync(IMigrationEngine engine, ParseResult arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var connectionString = DatabaseToExport(arguments);
        var output = arguments.GetValue(CliOptions.BaselineOut)!;

        await using var database = await engine.ConnectAsync(connectionString, cancellationToken);
        var baseline = await MigrationBaseline.ExportAsync(engine.Name, database, cancellationToken);
        baseline.Save(output);
        var applied = baseline.AppliedHistory();
        reporter.Info($"Baseline of {database.DisplayName}: {applied.Count} applied migration(s){(applied.Count == 0 ? "" : $" up to {applied[^1].Script}")}, " +
                      $"{baseline.Schema.Objects.Count} schema object(s), schema hash {baseline.SchemaHash}; written to {Path.GetFullPath(output)}. " +
                      "Set MigrationBaseline to this file to build releases for this database.");
    }

    /// <summary>The connection string of the database a <c>baseline</c> verb exports, from the variable --connection-variable names.</summary>
    private static string DatabaseToExport(ParseResult arguments)
    {
        var variable = arguments.GetValue(CliOptions.ConnectionVariable)!;
        var connectionString = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(connectionString)
            ? throw Invalid($"the environment variable {variable} (named by --connection-variable) is not set; set it to the connection string of the database to export.")
            : connectionString;
    }

    /// <summary>What <c>migrate build-dacpac</c> builds: Schema/ into a dacpac by DacFx, offline; no dacpac when anything is an error.</summary>
    internal static DacpacBuildOptions DacpacBuildOptions(ParseResult arguments) =>
        new(
            arguments.GetValue(CliOptions.Schema)!,
            arguments.GetValue(CliOptions.DacpacOut)!,
            AtMostOne(arguments, CliOptions.PreDeploy),
            AtMostOne(arguments, CliOptions.PostDeploy),
            arguments.GetValue(CliOptions.SqlServerVersion)!,
            arguments.GetValue(CliOptions.DatabaseName),
            CodeAnalysisRules.Parse(arguments.GetValue(CliOptions.AnalysisRules)),
            new WarningPolicy(
                arguments.GetValue(CliOptions.NoWarn),
                arguments.GetValue(CliOptions.WarningsAsErrors),
                arguments.GetValue(CliOptions.WarningsNotAsErrors),
                arguments.GetValue(CliOptions.TreatWarningsAsErrors)),
            SqlCmdVariables(arguments));

    /// <summary><c>--sqlcmd-variable name=value</c>, repeated: the project's SqlCmdVariable items.</summary>
    private static Dictionary<string, string> SqlCmdVariables(ParseResult arguments)
    {
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in arguments.GetValue(CliOptions.SqlCmdVariable)!)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Invalid($"--sqlcmd-variable '{pair}' is not name=value.");
            }

            variables[pair[..equals]] = pair[(equals + 1)..];
        }

        return variables;
    }

    private static string? AtMostOne(ParseResult arguments, Option<string[]> option) => arguments.GetValue(option)! switch
    {
        [] => null,
        [var one] => one,
        var many => throw Invalid($"{option.Name} was given {many.Length} files ({string.Join(", ", many)}); a dacpac carries one {option.Name[2..]} script: combine them into one file."),
    };

    /// <summary>The --engine option's engine (its value checked as it was parsed; SqlServer by default, as in the targets).</summary>
    private static IMigrationEngine Engine(ParseResult arguments) => Engine(arguments.GetValue(CliOptions.Engine)!);

    private static IMigrationEngine Engine(string name) =>
        EngineCatalog.Find(name) ?? throw Invalid($"MigrationEngine '{name}' is not supported; use {string.Join(" or ", EngineCatalog.Names)}.");

    private static DiagnosticException Invalid(string message) => new(Diagnostic.Error(DiagnosticCodes.InvalidOption, message));

    /// <param name="reportIgnoredMigrations">Once per build: the dev deploy says so, the tests after it do not again.</param>
    private static DevLoopOptions DevOptions(IMigrationEngine engine, ParseResult arguments, Reporter reporter, bool reportIgnoredMigrations)
    {
        var model = ModelProject(engine, arguments, reporter);
        IReadOnlyList<string> migrations = arguments.GetValue(CliOptions.Migration)!;
        if (model is not null && migrations.Count > 0)
        {
            if (reportIgnoredMigrations)
            {
                model.WarnMigrationsIgnored(migrations);
            }

            migrations = [];
        }

        return new DevLoopOptions(
            migrations,
            arguments.GetValue(CliOptions.DevConnectionVariable)!,
            arguments.GetValue(CliOptions.DevDatabase) == "none" ? DevDatabaseMode.None : DevDatabaseMode.Auto,
            arguments.GetValue(CliOptions.StateDirectory)!,
            LockWait(arguments),
            model?.DevDeploy,
            arguments.GetValue(CliOptions.FullValidation));
    }

    /// <summary>
    /// The state-based project --dacpac describes (its model: Schema/ built), from the engine; null for a migrations
    /// project. The options a verb does not take read as their defaults.
    /// </summary>
    private static IModelProject? ModelProject(IMigrationEngine engine, ParseResult arguments, Reporter reporter) =>
        NullIfEmpty(arguments.GetValue(CliOptions.Dacpac)) is { } model
            ? engine.OpenModelProject(new ModelProjectOptions(
                model,
                NullIfEmpty(arguments.GetValue(CliOptions.Baseline)),
                arguments.GetValue(CliOptions.DatabaseName),
                arguments.GetValue(CliOptions.AllowDataLoss),
                arguments.GetValue(CliOptions.SqlServerVersion)!.Name,
                arguments.GetValue(CliOptions.Schema) ?? [],
                arguments.GetValue(CliOptions.FindingsAsErrors),
                arguments.GetValue(CliOptions.StateDirectory)!,
                reporter))
            : null;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
