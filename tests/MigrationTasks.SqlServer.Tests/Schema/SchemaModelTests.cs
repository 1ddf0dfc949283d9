using System.IO.Compression;
using MigrationTasks.Diagnostics;
using MigrationTasks.SqlServer.Schema;

namespace MigrationTasks.SqlServer.Tests.Schema;

/// <summary>
/// A kept model (the model server's) against a cold build of the same files after each edit: the same model.xml,
/// byte for byte, and the same diagnostics; only the changed files are added again when every element has a name.
/// </summary>
public sealed class SchemaModelTests
{
    private const string Customer = "CREATE TABLE dbo.Customer (CustomerId int NOT NULL CONSTRAINT PK_Customer PRIMARY KEY, Name nvarchar(100) NOT NULL);\n";

    [Test]
    public void Every_edit_of_a_project_whose_elements_all_have_names_adds_only_the_changed_files_and_writes_what_a_cold_build_writes()
    {
        using var folder = new ScratchFolder();
        folder.Write("Schema/A_Customer.sql", Customer);
        folder.Write("Schema/C_Names.sql", "CREATE VIEW dbo.Names AS SELECT Name FROM dbo.Customer;\n");
        folder.Write("Schema/D_Seed.sql", "CREATE TABLE dbo.Country (Code char(2) NOT NULL CONSTRAINT PK_Country PRIMARY KEY);\nGO\nINSERT INTO dbo.Country VALUES ('NO');\n");
        folder.Write("Schema/E_Get.sql", "CREATE PROCEDURE dbo.GetCustomer @Id int AS SELECT Name FROM dbo.Customer WHERE CustomerId = @Id;\n");

        AssertWarmBuildsAreCold(folder, SqlServerPlatform.Default,
        [
            ("the first build", () => { }, 4),
            ("nothing changed", () => { }, 0),
            ("a view changed", () => folder.Write("Schema/C_Names.sql", "CREATE VIEW dbo.Names AS SELECT CustomerId, Name FROM dbo.Customer;\n"), 1),
            ("a table changed under its view", () => folder.Write("Schema/A_Customer.sql", Customer.Replace("NOT NULL);", "NOT NULL, Email nvarchar(200) NULL CONSTRAINT DF_Customer_Email DEFAULT ('');")), 1),
            ("a file added between others", () => folder.Write("Schema/B_Order.sql", "CREATE TABLE dbo.[Order] (OrderId int NOT NULL CONSTRAINT PK_Order PRIMARY KEY, CustomerId int NOT NULL CONSTRAINT FK_Order_Customer REFERENCES dbo.Customer (CustomerId));\n"), 1),
            ("a file changed back and forth", () => folder.Write("Schema/A_Customer.sql", Customer), 1),
            ("a file deleted", () => File.Delete(folder.PathOf("Schema/E_Get.sql")), 0),
            ("a file renamed", () => File.Move(folder.PathOf("Schema/C_Names.sql"), folder.PathOf("Schema/F_Names.sql")), 1),
            ("a syntax error", () => folder.Write("Schema/A_Customer.sql", "CREATE TABLE dbo.Customer (CustomerId int,, Name int);\n"), -1),
            ("the syntax error fixed", () => folder.Write("Schema/A_Customer.sql", Customer), 0),
            ("an unresolved reference", () => folder.Write("Schema/F_Names.sql", "CREATE VIEW dbo.Names AS SELECT Nmae FROM dbo.Customer;\n"), 1),
            ("the reference fixed, the data change gone", () =>
            {
                folder.Write("Schema/F_Names.sql", "CREATE VIEW dbo.Names AS SELECT Name FROM dbo.Customer;\n");
                folder.Write("Schema/D_Seed.sql", "CREATE TABLE dbo.Country (Code char(2) NOT NULL CONSTRAINT PK_Country PRIMARY KEY);\n");
            }, 2),
            ("two objects in a file that had one", () => folder.Write("Schema/D_Seed.sql", "CREATE TABLE dbo.Country (Code char(2) NOT NULL CONSTRAINT PK_Country PRIMARY KEY);\nGO\nCREATE TABLE dbo.Region (Code char(3) NOT NULL CONSTRAINT PK_Region PRIMARY KEY);\n"), 1),
            ("an object moved to another file", () =>
            {
                folder.Write("Schema/D_Seed.sql", "CREATE TABLE dbo.Country (Code char(2) NOT NULL CONSTRAINT PK_Country PRIMARY KEY);\n");
                folder.Write("Schema/G_Region.sql", "CREATE TABLE dbo.Region (Code char(3) NOT NULL CONSTRAINT PK_Region PRIMARY KEY);\n");
            }, 2),
        ]);
    }

    [Test]
    public void A_project_with_an_unnamed_key_is_modelled_again_from_every_file_on_each_change_and_writes_what_a_cold_build_writes()
    {
        using var folder = new ScratchFolder();
        // An inline PRIMARY KEY without a name: DacFx writes such elements in an order that depends on the model's history.
        folder.Write("Schema/A_Customer.sql", "CREATE TABLE dbo.Customer (CustomerId int NOT NULL PRIMARY KEY, Name nvarchar(100) NOT NULL);\n");
        folder.Write("Schema/C_Names.sql", "CREATE VIEW dbo.Names AS SELECT Name FROM dbo.Customer;\n");
        folder.Write("Schema/D_Country.sql", "CREATE TABLE dbo.Country (Code char(2) NOT NULL PRIMARY KEY);\n");

        AssertWarmBuildsAreCold(folder, SqlServerPlatform.Parse("Sql150"),
        [
            ("the first build", () => { }, 3),
            ("nothing changed", () => { }, 0),
            ("a table changed", () => folder.Write("Schema/A_Customer.sql", "CREATE TABLE dbo.Customer (CustomerId int NOT NULL PRIMARY KEY, Name nvarchar(100) NOT NULL, Email nvarchar(200) NULL);\n"), 3),
            ("a file with unnamed keys added between others", () => folder.Write("Schema/B_Order.sql", "CREATE TABLE dbo.[Order] (OrderId int NOT NULL PRIMARY KEY, CustomerId int NOT NULL REFERENCES dbo.Customer (CustomerId));\n"), 4),
            ("a file with named elements only changed", () => folder.Write("Schema/C_Names.sql", "CREATE VIEW dbo.Names AS SELECT CustomerId, Name FROM dbo.Customer;\n"), 4),
            ("a file with an unnamed key deleted", () => File.Delete(folder.PathOf("Schema/B_Order.sql")), 3),
        ]);
    }

    [Test]
    public void A_kept_model_of_another_platform_is_refused()
    {
        using var folder = new ScratchFolder();
        using var kept = new SchemaModel(SqlServerPlatform.Parse("Sql150"));

        Assert.Throws<ArgumentException>(() => new DacpacBuilder(new Reporter(TextWriter.Null)).Build(
            new DacpacBuildOptions([folder.Write("Schema/A.sql", Customer)], folder.PathOf("bin/x.dacpac")), kept));
    }

    /// <param name="edits">Each edit, and how many files the kept model adds for it (-1: not asked, the build stops before the model).</param>
    private static void AssertWarmBuildsAreCold(ScratchFolder folder, SqlServerPlatform platform, (string What, Action Edit, int Added)[] edits)
    {
        using var kept = new SchemaModel(platform);
        foreach (var (what, edit, added) in edits)
        {
            edit();
            var files = Directory.GetFiles(folder.PathOf("Schema"), "*.sql").Order(StringComparer.Ordinal).ToList();

            var warm = Build(folder, files, platform, "warm", kept);
            var cold = Build(folder, files, platform, "cold", kept: null);

            Assert.That(warm.Diagnostics, Is.EqualTo(cold.Diagnostics), what);
            Assert.That(warm.Written, Is.EqualTo(cold.Written), what);
            Assert.That(warm.ModelXml, Is.EqualTo(cold.ModelXml), $"{what}: model.xml differs");
            Assert.That(kept.Usable, Is.True, what);
            if (added >= 0)
            {
                Assert.That(kept.LastAdded, Is.EqualTo(added), $"{what}: the files added");
            }
        }
    }

    private static (List<string> Diagnostics, byte[]? ModelXml, bool Written) Build(
        ScratchFolder folder, List<string> files, SqlServerPlatform platform, string name, SchemaModel? kept)
    {
        var dacpac = folder.PathOf($"bin/{name}.dacpac");
        var result = new DacpacBuilder(new Reporter(TextWriter.Null)).Build(new DacpacBuildOptions(files, dacpac, Platform: platform, DatabaseName: "ShopDb"), kept);
        if (!result.Written)
        {
            return ([.. result.Diagnostics.Select(d => d.ToString())], null, false);
        }

        using var zip = ZipFile.OpenRead(dacpac);
        using var model = zip.GetEntry("model.xml")!.Open();
        var bytes = new MemoryStream();
        model.CopyTo(bytes);
        return ([.. result.Diagnostics.Select(d => d.ToString())], bytes.ToArray(), true);
    }
}
