using System.Diagnostics;
using System.Globalization;
using MigrationTasks.PostgreSql.Engine;

// Times BackupAsync (dump + proof + schema hash + table fingerprints + metadata) and RestoreAsync (atomic restore +
// verification) on the database named by an environment variable, as the deploy would run them.
// Usage: BackupBench <connection variable> <backup folder> <runs> [hash-rows]
if (args.Length is not (3 or 4))
{
    Console.Error.WriteLine("usage: BackupBench <connection variable> <backup folder> <runs> [hash-rows]");
    return 2;
}

var hashRows = args.Length == 4 && args[3] == "hash-rows";

var connectionString = Environment.GetEnvironmentVariable(args[0]) ?? throw new InvalidOperationException($"{args[0]} is not set");
var runs = int.Parse(args[2], CultureInfo.InvariantCulture);
var engine = new PostgresEngine();
MigrationTasks.Engines.DatabaseBackup? last = null;
for (var run = 1; run <= runs; run++)
{
    await using var database = await engine.ConnectAsync(connectionString, CancellationToken.None);
    var clock = Stopwatch.StartNew();
    last = await database.BackupAsync(args[1], hashRows, CancellationToken.None);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"backup run={run} ms={clock.ElapsedMilliseconds} bytes={last.Bytes} proof=\"{last.Proof}\""));
}

for (var run = 1; run <= runs; run++)
{
    await using var database = await engine.ConnectAsync(connectionString, CancellationToken.None);
    var clock = Stopwatch.StartNew();
    await database.RestoreAsync(last!, CancellationToken.None);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restore run={run} ms={clock.ElapsedMilliseconds}"));
}

return 0;
