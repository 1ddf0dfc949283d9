using System.Globalization;
using MigrationTasks.Dev;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.Staging;

namespace MigrationTasks.Cli;

/// <summary>
/// The verbs the MSBuild targets call. Each reads its options, runs one step of Core's flow and leaves diagnostics
/// on standard output; nothing here knows about MSBuild beyond the canonical line format.
/// </summary>
internal static class Verbs
{
    public static async Task RunAsync(Arguments arguments, Reporter reporter, CancellationToken cancellationToken)
    {
        var engine = Engine(arguments.Optional("engine") ?? "PostgreSql");
        var loop = new DevLoop(engine, reporter);
        switch (arguments.Verb)
        {
            case "check":
                loop.Check(arguments.All("migration"));
                break;
            case "deploy-dev":
                await loop.DeployAsync(DevOptions(arguments), cancellationToken);
                break;
            case "test":
                await loop.TestAsync(
                    DevOptions(arguments),
                    arguments.All("test"),
                    arguments.Required("junit"),
                    arguments.Optional("suite") ?? "MigrationTests",
                    cancellationToken);
                break;
            case "validate-staging":
                await new StagingValidator(engine, reporter).ValidateAsync(
                    new StagingOptions(
                        arguments.All("migration"),
                        arguments.All("check"),
                        arguments.Optional("connection-variable") ?? "MIGRATIONTASKS_STAGING_CONNECTION",
                        arguments.Optional("state-dir") ?? Path.Combine("obj", "migrationtasks"),
                        arguments.Required("report-dir"),
                        string.Equals(arguments.Optional("findings-as-errors"), "true", StringComparison.OrdinalIgnoreCase)),
                    cancellationToken);
                break;
            default:
                throw Arguments.Invalid($"unknown verb '{arguments.Verb}' (verbs: check, deploy-dev, test, validate-staging)");
        }
    }

    private static IMigrationEngine Engine(string name) => name.ToUpperInvariant() switch
    {
        "POSTGRESQL" => new PostgresEngine(),
        _ => throw Arguments.Invalid($"MigrationEngine '{name}' is not supported here; use PostgreSql (SqlServer comes in its own provider)."),
    };

    private static DevLoopOptions DevOptions(Arguments arguments)
    {
        var mode = arguments.Optional("dev-database") ?? "auto";
        return new DevLoopOptions(
            arguments.All("migration"),
            arguments.Optional("connection-variable") ?? "MIGRATIONTASKS_DEV_CONNECTION",
            mode.ToUpperInvariant() switch
            {
                "AUTO" => DevDatabaseMode.Auto,
                "NONE" => DevDatabaseMode.None,
                _ => throw Arguments.Invalid($"MigrationDevDatabase '{mode}' is not 'auto' or 'none'."),
            },
            arguments.Optional("state-dir") ?? Path.Combine("obj", "migrationtasks"),
            arguments.Optional("lock-timeout") is { } seconds
                ? TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture))
                : MigrationRunner.DefaultLockWait);
    }
}
