using System.Collections.Concurrent;
using Npgsql;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// The release scripts the scenarios deploy, and the gate that stops the runner at an exact statement: a script's
/// statement takes a shared advisory lock that the test holds exclusively, so the runner waits there (in the middle
/// of a migration, of Verify/, of a check) until the test has done its fault, then lets it go on.
/// </summary>
internal static class Faults
{
    private const long GateKey = 4242;

    /// <summary>The gate as a statement: it waits while the test holds the gate, then returns no rows.</summary>
    public const string Gate = "SELECT gate FROM (SELECT pg_advisory_xact_lock_shared(4242)::text AS gate) held WHERE gate = 'never';";

    /// <summary>The release of the scenarios: every customer's name gets a '+', so a double apply shows as '++'.</summary>
    public static readonly ReleaseWorkshop.Script V2 = new("V2__mark_names.sql", "UPDATE customer SET name = name || '+';");

    public static readonly ReleaseWorkshop.Script GatedV2 = new("V2__mark_names.sql", Gate + "\nUPDATE customer SET name = name || '+';");

    public static readonly ReleaseWorkshop.Script V3Tier = new("V3__tier.sql", "ALTER TABLE customer ADD COLUMN tier text NOT NULL DEFAULT 'basic';");

    /// <summary>
    /// Fails on production only: the package step replays every migration on a throwaway server to compute the
    /// post-state, and a release that fails there is never packaged. Production's databases are named prod_….
    /// </summary>
    public const string FailOnProduction = "SELECT 1 / CASE WHEN current_database() LIKE 'prod%' THEN 0 ELSE 1 END;";

    public static readonly ReleaseWorkshop.Script FailingV3 = new("V3__fails.sql", "ALTER TABLE customer ADD COLUMN tier text;\n" + FailOnProduction);

    /// <summary>Runs outside a transaction: an index built concurrently, then the gate, then a failure.</summary>
    public static readonly ReleaseWorkshop.Script GatedNoTransactionV3 = new("V3__index.sql",
        "-- migrationtasks: no-transaction\nCREATE INDEX CONCURRENTLY customer_email ON customer (email);\n" + Gate + "\nCREATE INDEX CONCURRENTLY orders_customer ON orders (customer_id);");

    public static readonly ReleaseWorkshop.Script PassingVerify = new("names_marked.sql", "SELECT id FROM customer WHERE name NOT LIKE '%+';");

    public static readonly ReleaseWorkshop.Script GatedVerify = new("names_marked.sql", Gate + "\nSELECT id FROM customer WHERE name NOT LIKE '%+';");

    public static readonly ReleaseWorkshop.Script GatedCheck = new("slow_check.sql", Gate);

    private static readonly ConcurrentDictionary<string, Lazy<Task<DatabaseState>>> PostStates = new();

    /// <summary>Holds the gate shut on a session of its own until disposed.</summary>
    public static async Task<NpgsqlConnection> CloseGateAsync(Production production)
    {
        var session = await production.OpenSessionAsync("fault gate");
        await using var command = new NpgsqlCommand($"SELECT pg_advisory_lock({GateKey})", session);
        await command.ExecuteNonQueryAsync();
        return session;
    }

    /// <summary>Waits until a session of production waits at the gate.</summary>
    public static Task WaitAtGateAsync(Production production, RunnerProcess runner) =>
        production.WaitUntilAsync(
            $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {GateKey} AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            "the runner to reach the gate",
            runner);

    /// <summary>Starts the deploy with the gate shut, kills it (SIGKILL) once it waits there, and returns its exit code.</summary>
    public static async Task<int> KillAtGateAsync(Production production, Deploy deploy, params string[] options)
    {
        await using var gate = await CloseGateAsync(production);
        using var runner = deploy.Start(options);
        await WaitAtGateAsync(production, runner);
        runner.Kill();
        var (exit, _) = await runner.WaitForExitAsync();
        return exit;
    }

    /// <summary>
    /// Production's state after this package deployed cleanly: the package run once, without faults, on a fresh copy
    /// (made once per package); what "all of the deploy, exactly once" must equal.
    /// </summary>
    public static Task<DatabaseState> PostStateAsync(ReleaseWorkshop.Script[] migrations, ReleaseWorkshop.Script[]? verify = null) =>
        PostStates.GetOrAdd(string.Join("\0", migrations.Concat(verify ?? []).Select(m => m.Name + m.Text)), _ => new Lazy<Task<DatabaseState>>(async () =>
        {
            var production = await Production.CreateAsync();
            var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, migrations, verify: verify));
            var (exit, output) = await deploy.RunAsync();
            Assert.That(exit, Is.EqualTo(0), "the fault-free reference deploy failed:\n" + output);
            return await production.StateAsync();
        })).Value;
}
