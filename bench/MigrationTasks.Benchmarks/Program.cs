using System.Diagnostics;
using System.Globalization;
using MigrationTasks.Benchmarks;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.PostgreSql.Engine;

// bench/run.sh's helper:
//   generate <file> <statement count>             writes the benchmark migration
//   apply <migration file> <connection variable>  applies it the way deploy-dev applies to the dev database, without
//                                                 deploy-dev's shadow step; prints where the time went on stderr
switch (args)
{
    case ["generate", var path, var count]:
        BenchMigration.Write(path, int.Parse(count, CultureInfo.InvariantCulture));
        return 0;
    case ["apply", var path, var variable]:
        return await ApplyAsync(path, variable);
    default:
        Console.Error.WriteLine("usage: generate <file> <statement count> | apply <migration file> <connection variable>");
        return 2;
}

static async Task<int> ApplyAsync(string path, string variable)
{
    var reporter = new Reporter(Console.Out);
    var engine = new PostgresEngine();
    var clock = Stopwatch.StartNew();
    try
    {
        var migrations = MigrationSource.Prepare(engine, [path]);
        var prepared = clock.Elapsed;
        var connectionString = Environment.GetEnvironmentVariable(variable)
            ?? throw new InvalidOperationException($"the environment variable {variable} is not set");
        await using var database = await engine.ConnectAsync(connectionString, CancellationToken.None);
        var connected = clock.Elapsed;
        await new MigrationRunner(reporter).DeployAsync(database, migrations, ApplyContext.ForThisMachine(), MigrationRunner.DefaultLockWait, CancellationToken.None);
        Console.Error.WriteLine(FormattableString.Invariant(
            $"prepare {prepared.TotalMilliseconds:0} ms, connect {(connected - prepared).TotalMilliseconds:0} ms, deploy {(clock.Elapsed - connected).TotalMilliseconds:0} ms"));
    }
    catch (DiagnosticException e)
    {
        reporter.Report(e.Diagnostics);
    }

    return reporter.ErrorCount == 0 ? 0 : 1;
}
