using System.Globalization;
using MigrationTasks.Dev;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.Production;
using MigrationTasks.Release;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Planning;
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
    /// <summary>The verbs of the release runner: any problem before they start refuses with exit code 2.</summary>
    public static readonly IReadOnlySet<string> RunnerVerbs = new HashSet<string>(StringComparer.Ordinal) { "verify", "plan", "deploy", "restore", "resolve", "baseline" };

    /// <summary>Runs the verb; returns its exit code when the verb decides it, else null (0 or 1 by the errors reported).</summary>
    public static async Task<RunnerExitCode?> RunAsync(Arguments arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        switch (arguments.Verb)
        {
            case "verify":
                // Before the engine is chosen: verifying a package needs no engine and touches no database.
                return Verify(arguments, reporter);
            case "deploy":
                return await DeployAsync(arguments, reporter, cancellationToken);
            case "plan":
                return await PlanAsync(arguments, reporter, cancellationToken);
            case "restore":
                return await RestoreAsync(arguments, reporter, cancellationToken);
            case "resolve":
                return await new ProductionRunner(Engine(arguments.Optional("engine") ?? "PostgreSql"), reporter)
                    .ResolveAsync(arguments.Required("connection-variable"), arguments.Required("reason"), LockWait(arguments), cancellationToken);
            case "build-dacpac":
                // SQL Server only, offline: the dacpac of Schema/ (its options say everything the build needs).
                BuildDacpac(arguments, reporter);
                return null;
        }

        var engine = Engine(arguments.Optional("engine") ?? "PostgreSql");
        var loop = new DevLoop(engine, reporter);
        switch (arguments.Verb)
        {
            case "check":
                loop.Check(arguments.All("migration"));
                break;
            case "deploy-dev":
                await loop.DeployAsync(DevOptions(engine, arguments, reporter), cancellationToken);
                break;
            case "test":
                await loop.TestAsync(
                    DevOptions(engine, arguments, reporter),
                    arguments.All("test"),
                    arguments.Required("junit"),
                    arguments.Optional("suite") ?? "MigrationTests",
                    cancellationToken);
                break;
            case "validate-staging":
                var staging = new StagingOptions(
                    arguments.All("migration"),
                    arguments.All("check"),
                    arguments.Optional("connection-variable") ?? "MIGRATIONTASKS_STAGING_CONNECTION",
                    StateDirectory(arguments),
                    arguments.Required("report-dir"),
                    IsTrue(arguments.Optional("findings-as-errors")));
                var validator = new StagingValidator(engine, reporter);
                if (SqlServerDacpac(engine, arguments) is { } dacpac)
                {
                    // State-based: staging against the baseline dacpac, and the release's own deploy script rehearsed.
                    await validator.ValidateAsync(staging, new SqlServerStagingSource(reporter, new SqlServerStagingSource.Options(
                        dacpac,
                        NullIfEmpty(arguments.Optional("baseline")),
                        arguments.Optional("database-name") ?? Path.GetFileNameWithoutExtension(dacpac),
                        IsTrue(arguments.Optional("allow-data-loss")),
                        SqlServerPlatform.Parse(arguments.Optional("sql-server-version")),
                        Path.Combine(staging.StateDirectory, "staging-sqlserver"))), cancellationToken);
                }
                else
                {
                    await validator.ValidateAsync(staging, cancellationToken);
                }

                break;
            case "package" when SqlServerDacpac(engine, arguments) is not null:
                // State-based: the deploy script DacFx generates against the baseline dacpac, not the Migrations/ files.
                new SqlServerReleaseWriter(reporter).Write(new SqlServerReleaseOptions(
                    PackageOptions(arguments),
                    arguments.Required("dacpac"),
                    arguments.Optional("database-name") ?? arguments.Required("package-id"),
                    arguments.All("schema"),
                    IsTrue(arguments.Optional("allow-data-loss")),
                    IsTrue(arguments.Optional("findings-as-errors")),
                    SqlServerPlatform.Parse(arguments.Optional("sql-server-version"))));
                break;
            case "package":
                await new ReleaseWriter(engine, reporter).WriteAsync(PackageOptions(arguments), cancellationToken);
                break;
            case "baseline" when engine is SqlServerEngine && (arguments.Optional("out") ?? "").EndsWith(".dacpac", StringComparison.OrdinalIgnoreCase):
                await BaselineDacpacAsync(arguments, reporter, cancellationToken);
                break;
            case "baseline":
                await BaselineAsync(engine, arguments, reporter, cancellationToken);
                break;
            default:
                throw Arguments.Invalid($"unknown verb '{arguments.Verb}' (verbs: {Arguments.VerbList})");
        }

        return null;
    }

    /// <summary>
    /// <c>migrate verify</c>: the package beside this migrate.dll (or --release-dir) against the trusted signer.
    /// Any problem refuses it with exit code 2, before any database is touched.
    /// </summary>
    private static RunnerExitCode Verify(Arguments arguments, Reporter reporter)
    {
        var directory = arguments.Optional("release-dir") ?? Path.Combine(AppContext.BaseDirectory, ReleaseLayout.FolderName);
        var result = ReleaseVerifier.Verify(directory, arguments.Optional("trust"), arguments.Flag("allow-unsigned"));
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
    private static async Task<RunnerExitCode> DeployAsync(Arguments arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var verification = VerifyRelease(arguments);
        var options = new DeployOptions(
            arguments.Required("connection-variable"),
            Path.GetFullPath(arguments.Optional("backup-dir") ?? ReleaseLayout.DefaultBackupFolder),
            Path.GetFullPath(arguments.Optional("report-dir") ?? ReleaseLayout.DefaultReportFolder),
            LockWait(arguments),
            arguments.Optional("window") is { } window ? MaintenanceWindow.Parse(window) : null,
            Seconds(arguments, "monitor-seconds") ?? TimeSpan.Zero,
            arguments.Flag("hash-rows"),
            StatementLocks(arguments, verification.Manifest?.StatementLockTimeout),
            arguments.Flag("transaction-per-migration"),
            arguments.Flag("discard-later-writes"));
        var report = await new ProductionRunner(Engine(verification.Manifest?.Engine ?? "PostgreSql"), reporter)
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
    private static async Task<RunnerExitCode> PlanAsync(Arguments arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var verification = VerifyRelease(arguments);
        reporter.Report(verification.Diagnostics);
        if (!verification.Passed)
        {
            return RunnerExitCode.Refused;
        }

        return await new ProductionRunner(Engine(verification.Manifest!.Engine), reporter)
            .PlanAsync(ReleaseToDeploy.From(verification), arguments.Required("connection-variable"), Console.Out, cancellationToken);
    }

    /// <summary><c>migrate restore --backup ID</c>: restore a backup a deploy took, with the same proof.</summary>
    private static async Task<RunnerExitCode> RestoreAsync(Arguments arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var report = await new ProductionRunner(Engine(arguments.Optional("engine") ?? "PostgreSql"), reporter).RestoreAsync(
            arguments.Required("connection-variable"),
            Path.GetFullPath(arguments.Optional("backup-dir") ?? ReleaseLayout.DefaultBackupFolder),
            arguments.Required("backup"),
            Path.GetFullPath(arguments.Optional("report-dir") ?? ReleaseLayout.DefaultReportFolder),
            LockWait(arguments),
            arguments.Flag("discard-later-writes"),
            cancellationToken);
        return report.Exit;
    }

    /// <summary>
    /// --lock-wait (seconds one statement may wait for a table lock; 0: no limit) and --lock-retries (tries after the
    /// first): how a deploy keeps an ALTER from queueing the application behind a long reader. Without --lock-wait,
    /// the release's MigrationStatementLockTimeout (from its manifest), else the default.
    /// </summary>
    private static LockWaitPolicy StatementLocks(Arguments arguments, TimeSpan? fromRelease)
    {
        var defaults = LockWaitPolicy.Default;
        var wait = Seconds(arguments, "lock-wait") ?? fromRelease ?? defaults.Timeout;
        var timeout = wait == TimeSpan.Zero ? null : wait;
        var tries = arguments.Optional("lock-retries") switch
        {
            null => defaults.Tries,
            var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var retries) && retries is >= 0 and <= 100 => retries + 1,
            var text => throw Arguments.Invalid($"--lock-retries '{text}' is not a whole number from 0 to 100."),
        };
        return defaults with { Timeout = timeout, Tries = timeout is null ? 1 : tries };
    }

    private static ReleaseVerification VerifyRelease(Arguments arguments) => ReleaseVerifier.Verify(
        arguments.Optional("release-dir") ?? Path.Combine(AppContext.BaseDirectory, ReleaseLayout.FolderName),
        arguments.Optional("trust"),
        arguments.Flag("allow-unsigned"));

    private static TimeSpan LockWait(Arguments arguments) => Seconds(arguments, "lock-timeout") ?? MigrationRunner.DefaultLockWait;

    /// <summary>An option that counts seconds; a value that is not a number is refused, naming the option.</summary>
    private static TimeSpan? Seconds(Arguments arguments, string option) => arguments.Optional(option) switch
    {
        null => null,
        var text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 => TimeSpan.FromSeconds(seconds),
        var text => throw Arguments.Invalid($"--{option} '{text}' is not a number of seconds."),
    };

    private static ReleaseOptions PackageOptions(Arguments arguments) => new(
        arguments.All("migration"),
        arguments.All("check"),
        arguments.All("verify"),
        arguments.Required("publish-dir"),
        arguments.Required("package-id"),
        arguments.Optional("version") ?? "1.0.0",
        arguments.Optional("state-dir") ?? Path.Combine("obj", "migrationtasks"),
        arguments.Optional("baseline"),
        arguments.Optional("signing-certificate"),
        arguments.Optional("staging-report"),
        arguments.Optional("project-dir"),
        // The runner packaged is this CLI's own folder, wherever MigrationCliPath pointed (a dev build in tests).
        AppContext.BaseDirectory,
        Seconds(arguments, "statement-lock-timeout"));

    /// <summary><c>migrate baseline</c>: production's history and schema, read-only, into a MigrationBaseline file.</summary>
    private static async Task BaselineAsync(IMigrationEngine engine, Arguments arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var connectionString = DatabaseToExport(arguments);
        var output = arguments.Required("out");

        await using var database = await engine.ConnectAsync(connectionString, cancellationToken);
        var baseline = await MigrationBaseline.ExportAsync(engine.Name, database, cancellationToken);
        baseline.Save(output);
        var applied = baseline.AppliedHistory();
        reporter.Info($"Baseline of {database.DisplayName}: {applied.Count} applied migration(s){(applied.Count == 0 ? "" : $" up to {applied[^1].Script}")}, " +
                      $"{baseline.Schema.Objects.Count} schema object(s), schema hash {baseline.SchemaHash}; written to {Path.GetFullPath(output)}. " +
                      "Set MigrationBaseline to this file to build releases for this database.");
    }

    /// <summary><c>migrate baseline --engine SqlServer --out FILE.dacpac</c>: production's schema as a dacpac, for MigrationBaseline.</summary>
    private static async Task BaselineDacpacAsync(Arguments arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var connectionString = DatabaseToExport(arguments);
        var output = arguments.Required("out");

        var database = await BaselineDacpacExporter.ExportAsync(connectionString, output, cancellationToken);
        reporter.Info($"Baseline of {database}: written to {Path.GetFullPath(output)} (a dacpac, no table data; model hash " +
                      $"{DacpacModelHash.Of(output, DiagnosticCodes.BaselineModelUnreadable)}). Set MigrationBaseline to this file to plan releases for this database.");
    }

    /// <summary>The connection string of the database a <c>baseline</c> verb exports, from the variable --connection-variable names.</summary>
    private static string DatabaseToExport(Arguments arguments)
    {
        var variable = arguments.Required("connection-variable");
        var connectionString = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(connectionString)
            ? throw Arguments.Invalid($"the environment variable {variable} (named by --connection-variable) is not set; set it to the connection string of the database to export.")
            : connectionString;
    }

    /// <summary><c>migrate build-dacpac</c>: Schema/ compiled into a dacpac by DacFx, offline; no dacpac when anything is an error.</summary>
    private static void BuildDacpac(Arguments arguments, Reporter reporter)
    {
        new DacpacBuilder(reporter).Build(new DacpacBuildOptions(
            arguments.All("schema"),
            arguments.Required("out"),
            AtMostOne(arguments, "pre-deploy"),
            AtMostOne(arguments, "post-deploy"),
            SqlServerPlatform.Parse(arguments.Optional("sql-server-version")),
            arguments.Optional("database-name"),
            CodeAnalysisRules.Parse(arguments.Optional("analysis-rules")),
            new WarningPolicy(
                arguments.Optional("no-warn"),
                arguments.Optional("warnings-as-errors"),
                arguments.Optional("warnings-not-as-errors"),
                string.Equals(arguments.Optional("treat-warnings-as-errors"), "true", StringComparison.OrdinalIgnoreCase)),
            SqlCmdVariables(arguments)));
    }

    /// <summary><c>--sqlcmd-variable name=value</c>, repeated: the project's SqlCmdVariable items.</summary>
    private static Dictionary<string, string> SqlCmdVariables(Arguments arguments)
    {
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in arguments.All("sqlcmd-variable"))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw Arguments.Invalid($"--sqlcmd-variable '{pair}' is not name=value.");
            }

            variables[pair[..equals]] = pair[(equals + 1)..];
        }

        return variables;
    }

    private static string? AtMostOne(Arguments arguments, string name) => arguments.All(name) switch
    {
        [] => null,
        [var one] => one,
        var many => throw Arguments.Invalid($"--{name} was given {many.Count} files ({string.Join(", ", many)}); a dacpac carries one {name} script: combine them into one file."),
    };

    private static bool IsTrue(string? value) => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    private static IMigrationEngine Engine(string name) => name.ToUpperInvariant() switch
    {
        "POSTGRESQL" => new PostgresEngine(),
        "SQLSERVER" => new SqlServerEngine(),
        _ => throw Arguments.Invalid($"MigrationEngine '{name}' is not supported; use SqlServer or PostgreSql."),
    };

    private static DevLoopOptions DevOptions(IMigrationEngine engine, Arguments arguments, Reporter reporter)
    {
        var mode = arguments.Optional("dev-database") ?? "auto";
        var stateDirectory = StateDirectory(arguments);
        var dacpac = SqlServerDacpac(engine, arguments);
        var migrations = arguments.All("migration");
        if (dacpac is not null && migrations.Count > 0)
        {
            if (arguments.Verb == "deploy-dev")
            {
                ReportMigrationsIgnored(reporter, migrations);
            }

            migrations = [];
        }

        return new DevLoopOptions(
            migrations,
            arguments.Optional("connection-variable") ?? "MIGRATIONTASKS_DEV_CONNECTION",
            mode.ToUpperInvariant() switch
            {
                "AUTO" => DevDatabaseMode.Auto,
                "NONE" => DevDatabaseMode.None,
                _ => throw Arguments.Invalid($"MigrationDevDatabase '{mode}' is not 'auto' or 'none'."),
            },
            stateDirectory,
            LockWait(arguments),
            dacpac is null
                ? null
                : (database, cancellationToken) => SchemaDeployScript.AgainstDatabaseAsync(
                    database,
                    new SchemaDeployScript.Options(
                        dacpac,
                        IsTrue(arguments.Optional("allow-data-loss")),
                        SqlServerPlatform.Parse(arguments.Optional("sql-server-version")),
                        Path.Combine(stateDirectory, "dev-sqlserver")),
                    reporter,
                    cancellationToken));
    }

    /// <summary>
    /// MIG2026, once per build (at the dev deploy). State-based: the release is DacFx's script of Schema/, so
    /// migrations applied only at dev would make dev differ from what staging rehearses and production receives.
    /// </summary>
    private static void ReportMigrationsIgnored(Reporter reporter, IReadOnlyList<string> migrations) =>
        reporter.Report(Diagnostic.Warning(
            DiagnosticCodes.MigrationsBesideSchema,
            $"{migrations.Count} migration file(s) (e.g. {Path.GetFileName(migrations[0])}) are ignored: a SQL Server project with Schema/ is state-based, " +
            "and its release is DacFx's deploy script of the dacpac. Move data changes into Deploy/PreDeployment.sql or Deploy/PostDeployment.sql, " +
            "or remove Schema/ to deploy versioned migrations instead.",
            migrations[0]));

    private static string StateDirectory(Arguments arguments) => arguments.Optional("state-dir") ?? Path.Combine("obj", "migrationtasks");

    /// <summary>--dacpac for the SQL Server engine: the project is state-based (Schema/ is the desired state).</summary>
    private static string? SqlServerDacpac(IMigrationEngine engine, Arguments arguments) =>
        engine is SqlServerEngine ? NullIfEmpty(arguments.Optional("dacpac")) : null;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
