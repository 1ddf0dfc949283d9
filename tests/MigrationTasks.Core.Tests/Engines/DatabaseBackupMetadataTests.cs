using System.Text.Json;
using System.Text.Json.Nodes;
using MigrationTasks.Engines;

namespace MigrationTasks.Core.Tests.Engines;

/// <summary>
/// A backup's metadata records the engine that took it, so that <c>migrate restore</c> and the commands the runner
/// prints need no guess; metadata written before the engine was recorded still loads, without one.
/// </summary>
public sealed class DatabaseBackupMetadataTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("migrationtasks backup metadata ").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void The_engine_is_saved_with_the_backup_and_read_back()
    {
        var backup = Backup() with { Engine = "SqlServer" };
        backup.Save(_folder);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, backup.Id + ".json")));
        Assert.That(json.RootElement.GetProperty("engine").GetString(), Is.EqualTo("SqlServer"));
        Assert.That(DatabaseBackup.Load(_folder, backup.Id).Engine, Is.EqualTo("SqlServer"));
    }

    [Test]
    public void Metadata_an_older_runner_wrote_loads_without_an_engine_and_takes_the_runners()
    {
        var backup = Backup() with { Engine = "PostgreSql" };
        backup.Save(_folder);
        var path = Path.Combine(_folder, backup.Id + ".json");
        var old = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        old.Remove("engine");
        File.WriteAllText(path, old.ToJsonString());

        var loaded = DatabaseBackup.Load(_folder, backup.Id);

        Assert.That(loaded.Engine, Is.Empty);
        Assert.That(loaded.TakenBy("PostgreSql").Engine, Is.EqualTo("PostgreSql"));
        Assert.That((loaded with { Engine = "SqlServer" }).TakenBy("PostgreSql").Engine, Is.EqualTo("SqlServer"), "a recorded engine is kept");
    }

    [Test]
    public void The_restore_command_names_the_engine_and_quotes_a_folder_with_spaces()
    {
        var backup = Backup() with { Engine = "PostgreSql" };

        Assert.That(backup.RestoreCommand(discardLaterWrites: true), Is.EqualTo(
            $"dotnet migrate.dll restore --engine PostgreSql --connection-variable VAR --backup-dir \"{_folder}\" --backup {backup.Id} --discard-later-writes"));
        Assert.That(DatabaseBackup.RestoreCommandFor("SqlServer", "/backups", "shop-1"), Is.EqualTo(
            "dotnet migrate.dll restore --engine SqlServer --connection-variable VAR --backup-dir /backups --backup shop-1"));
    }

    private DatabaseBackup Backup()
    {
        var id = DatabaseBackup.NewId("shop", DateTimeOffset.UtcNow);
        var dump = DatabaseBackup.DumpPathFor(_folder, id, ".dump");
        File.WriteAllBytes(dump, [1, 2, 3]);
        return new DatabaseBackup(id, dump, 3, "localhost/shop", "hash", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1), "read back");
    }
}
