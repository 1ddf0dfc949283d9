using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Tests;
using MigrationTasks.Testing;

namespace MigrationTasks.Cli.Tests;

/// <summary>
/// Which engine a verb runs with: the targets' default when none is given (SqlServer); the signed manifest's for
/// deploy and plan; for restore, the one the backup's metadata records.
/// </summary>
public sealed partial class EngineTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("migrationtasks-cli-engine-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void The_default_engine_is_the_targets_default()
    {
        var targets = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "build", "MigrationTasks.targets"));
        var targetsDefault = TargetsEngineDefault().Match(targets).Groups[1].Value;

        Assert.That(targetsDefault, Is.EqualTo("SqlServer"));
        foreach (var verb in new[] { "check", "deploy-dev", "validate-staging", "resolve", "baseline" })
        {
            Assert.That(MigrateCommand.Parse([verb]).GetValue(CliOptions.Engine), Is.EqualTo(targetsDefault), verb);
        }
    }

    [Test]
    public async Task The_default_engine_is_shown_in_the_help()
    {
        var (_, output) = await Cli.RunAsync("resolve", "--help");

        Assert.That(output, Does.Match(@"--engine <engine>\s+The database engine: SqlServer or PostgreSql \(MigrationEngine\)\. \[default: SqlServer\]"));
    }

    [Test]
    public void An_engine_is_accepted_in_any_case_and_named_as_the_targets_name_it() =>
        Assert.That(MigrateCommand.Parse(["check", "--engine", "postgresql"]).GetValue(CliOptions.Engine), Is.EqualTo("PostgreSql"));

    [Test]
    public async Task Restore_takes_the_engine_from_the_backups_metadata()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await PostgresServer.QueryAsync(connectionString, "CREATE TABLE customer (id int PRIMARY KEY, name text); INSERT INTO customer VALUES (1, 'Ada'), (2, 'Grace'); SELECT 1");
        DatabaseBackup backup;
        await using (var database = await new PostgresEngine().ConnectAsync(connectionString, CancellationToken.None))
        {
            backup = await database.BackupAsync(_folder, hashRows: false, CancellationToken.None);
        }

        await PostgresServer.QueryAsync(connectionString, "DELETE FROM customer WHERE id = 2; SELECT 1");

        // No --engine, and the CLI's default is SqlServer: only the metadata can say PostgreSql.
        var (exit, output) = await Cli.RunProcessAsync(
            ["restore", "--connection-variable", "SHOP_DB", "--backup-dir", _folder, "--backup", backup.Id, "--report-dir", Path.Combine(_folder, "report"), "--discard-later-writes"],
            new Dictionary<string, string> { ["SHOP_DB"] = connectionString });

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain($"backup {backup.Id} restored"));
        Assert.That(await PostgresServer.QueryAsync(connectionString, "SELECT name FROM customer ORDER BY id"), Is.EqualTo(new[] { new[] { "Ada" }, new[] { "Grace" } }));
    }

    [Test]
    public async Task Restore_of_a_backup_whose_metadata_records_no_engine_requires_engine()
    {
        var id = SaveBackup(engine: null);

        var (exit, output) = await Cli.RunAsync("restore", "--connection-variable", "NOT_SET_ANYWHERE", "--backup-dir", _folder, "--backup", id);

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain($"error MIG1001: backup {id} does not say which engine took it").And.Contain("pass --engine SqlServer or --engine PostgreSql"));
    }

    [Test]
    public async Task Restore_refuses_an_engine_other_than_the_one_that_took_the_backup()
    {
        var id = SaveBackup(engine: "PostgreSql");

        var (exit, output) = await Cli.RunAsync("restore", "--engine", "SqlServer", "--connection-variable", "NOT_SET_ANYWHERE", "--backup-dir", _folder, "--backup", id);

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain($"error MIG1001: --engine SqlServer does not match backup {id}, which PostgreSql took"));
    }

    /// <summary>A backup's files as a runner writes them (the dump's bytes are not read before the engine is chosen).</summary>
    private string SaveBackup(string? engine)
    {
        var id = DatabaseBackup.NewId("shop", DateTimeOffset.UtcNow);
        var dump = DatabaseBackup.DumpPathFor(_folder, id, ".dump");
        File.WriteAllBytes(dump, [1, 2, 3]);
        new DatabaseBackup(id, dump, 3, "localhost/shop", "hash", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1), "read back") { Engine = engine ?? "PostgreSql" }.Save(_folder);
        if (engine is null)
        {
            // As a runner wrote it before backups recorded their engine.
            var path = Path.Combine(_folder, id + ".json");
            var metadata = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            metadata.Remove("engine");
            File.WriteAllText(path, metadata.ToJsonString());
        }

        return id;
    }

    [GeneratedRegex(@"<MigrationEngine Condition=""'\$\(MigrationEngine\)' == ''"">(\w+)</MigrationEngine>")]
    private static partial Regex TargetsEngineDefault();
}
