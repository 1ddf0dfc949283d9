using Microsoft.Build.Utilities;

namespace MigrationTasks.Tasks.Tests;

/// <summary>The dacpac's Inputs as the files are spelled on disk, so that MSBuild's up-to-date check finds them.</summary>
[TestFixture]
public sealed class MigrationResolveCaseTests
{
    [Test]
    public void An_item_in_another_case_than_its_file_becomes_the_files_path_with_its_metadata_and_others_stay_as_they_are()
    {
        var folder = Directory.CreateTempSubdirectory("migrationtasks-resolve-case-").FullName;
        try
        {
            var orders = Path.Combine(folder, "Schema", "Orders.sql");
            Directory.CreateDirectory(Path.GetDirectoryName(orders)!);
            File.WriteAllText(orders, "CREATE TABLE dbo.Orders (Id int);\n");
            var exact = Path.Combine(folder, "Schema", "Exact.sql");
            File.WriteAllText(exact, "");
            var misspelled = new TaskItem(Path.Combine(folder, "schema", "orders.SQL"));
            misspelled.SetMetadata("Kind", "table");
            var task = new MigrationResolveCase
            {
                BuildEngine = new RecordingBuildEngine(),
                Files = [misspelled, new TaskItem(exact), new TaskItem(Path.Combine(folder, "Schema", "Missing.sql"))],
            };

            Assert.That(task.Execute(), Is.True);

            Assert.That(task.Resolved.Select(i => i.ItemSpec), Is.EqualTo(new[] { orders, exact, Path.Combine(folder, "Schema", "Missing.sql") }));
            Assert.That(task.Resolved[0].GetMetadata("Kind"), Is.EqualTo("table"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
