using System.IO.Compression;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>
/// `dotnet build` of SQL Server database projects from the packed package, with no SQL Server anywhere: the dacpac
/// is DacFx's offline work; the dev deploy says there is no database (MIG1002) and the build still succeeds.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public sealed class SqlServerBuildTests
{
    [Test]
    public async Task The_sample_builds_its_dacpac_offline_skips_it_when_nothing_changed_and_rebuilds_it_when_a_file_is_deleted()
    {
        var project = await DatabaseProject.FromSampleAsync("SqlShop");

        var (first, firstOutput) = await project.BuildAsync();

        Assert.That(first, Is.EqualTo(0), firstOutput);
        Assert.That(firstOutput, Does.Contain($"Built {project.Dacpac} (Sql160) from 10 schema file(s) with pre- and post-deployment scripts: 0 warning(s)"));
        Assert.That(firstOutput, Does.Contain("warning MIG1002: no dev database"));
        using (var dacpac = ZipFile.OpenRead(project.Dacpac))
        {
            Assert.That(dacpac.Entries.Select(e => e.FullName), Is.SupersetOf(new[] { "model.xml", "DacMetadata.xml", "predeploy.sql", "postdeploy.sql" }));
            var model = new StreamReader(dacpac.GetEntry("model.xml")!.Open()).ReadToEnd();
            Assert.That(model, Does.Contain("[sales].[PlaceOrder]").And.Contain("[sales].[OrderSummary]").And.Contain("[sales].[OrderTotal]"));
            Assert.That(new StreamReader(dacpac.GetEntry("postdeploy.sql")!.Open()).ReadToEnd(), Does.Contain("MERGE sales.Product"));
        }

        var (second, secondOutput) = await project.BuildAsync(null, "-v:d");

        Assert.That(second, Is.EqualTo(0), secondOutput);
        Assert.That(secondOutput, Does.Contain("Skipping target \"_MigrationBuildDacpac\" because all output files are up-to-date"));
        Assert.That(secondOutput, Does.Not.Contain("Task \"MigrationTool\""), "no CLI process, so no DacFx work");

        project.Delete("Schema/Procedures/GetCustomerOrders.sql");
        var (third, thirdOutput) = await project.BuildAsync();

        Assert.That(third, Is.EqualTo(0), thirdOutput);
        Assert.That(thirdOutput, Does.Contain("from 9 schema file(s)"), "deleting a schema file builds the dacpac again");
        using var rebuilt = ZipFile.OpenRead(project.Dacpac);
        Assert.That(new StreamReader(rebuilt.GetEntry("model.xml")!.Open()).ReadToEnd(), Does.Not.Contain("[sales].[GetCustomerOrders]"));
    }

    [Test]
    public async Task With_a_dev_or_staging_server_set_build_and_publish_connect_to_it_first_and_never_print_its_password()
    {
        var project = await DatabaseProject.FromSampleAsync("SqlShop");
        // Nothing listens on port 9 here: the connection check fails at once, before DacFx (which retries for minutes).
        const string password = "Not-A-Secret-42";
        var unreachable = $"Server=tcp:127.0.0.1,9;Database=SqlShopDev;User ID=sa;Password={password};Connect Timeout=5;Encrypt=false";
        // Schema/ makes the project state-based: a migration beside it is not deployed anywhere, and the build says so.
        var migration = project.Write("Migrations/V1__backfill.sql", "UPDATE sales.Customer SET Name = Name;\n");

        var (built, buildOutput) = await project.BuildAsync(new Dictionary<string, string?> { ["MIGRATIONTASKS_DEV_CONNECTION"] = unreachable });

        Assert.That(built, Is.Not.EqualTo(0), buildOutput);
        Assert.That(buildOutput, Does.Contain("error MIG1004").And.Contain("127.0.0.1"));
        Assert.That(buildOutput, Does.Contain($"{migration} : warning MIG2026: 1 migration file(s) (e.g. V1__backfill.sql) are ignored"));
        Assert.That(buildOutput, Does.Not.Contain(password));
        Assert.That(File.Exists(project.Dacpac), "the dacpac is built before the dev deploy");

        var (published, publishOutput) = await project.PublishAsync(
            new Dictionary<string, string?> { ["MIGRATIONTASKS_STAGING_CONNECTION"] = unreachable }, "-p:MigrationDevDatabase=none");

        Assert.That(published, Is.Not.EqualTo(0), publishOutput);
        Assert.That(publishOutput, Does.Contain("error MIG1004").And.Contain("127.0.0.1"));
        Assert.That(publishOutput, Does.Not.Contain(password));
        Assert.That(Directory.Exists(Path.Combine(project.PublishDirectory, "release")), Is.False, "no release without the staging gate");
    }

    [Test]
    public async Task Syntax_errors_in_two_files_fail_the_build_at_both_WarningsAsErrors_leaves_no_dacpac_and_NoWarn_silences()
    {
        var project = await DatabaseProject.CreateAsync(engine: "SqlServer");
        project.Write("Schema/Customer.sql", "CREATE TABLE dbo.Customer (CustomerId int NOT NULL PRIMARY KEY, Name nvarchar(100) NOT NULL);\n");
        var first = project.Write("Schema/Broken.sql", "CREATE TABLE dbo.A (Id int,, Name int);\n");
        var second = project.Write("Schema/AlsoBroken.sql", "CREATE VIEW dbo.B AS\n\n    SELEC 1;\n");

        var (failed, failedOutput) = await project.BuildAsync();

        Assert.That(failed, Is.Not.EqualTo(0));
        Assert.That(failedOutput, Does.Contain($"{first}(1,28): error MIG2010: T-SQL syntax error (Sql160): Incorrect syntax near ','."));
        Assert.That(failedOutput, Does.Contain($"{second}(3,5): error MIG2010: T-SQL syntax error (Sql160): Incorrect syntax near 'SELEC'."));
        Assert.That(File.Exists(project.Dacpac), Is.False);

        project.Delete("Schema/Broken.sql");
        var view = project.Write("Schema/AlsoBroken.sql", "-- every customer\n\nCREATE VIEW dbo.AllCustomers AS\nSELECT * FROM dbo.Customer;\n");
        var (warned, warnedOutput) = await project.BuildAsync();

        Assert.That(warned, Is.EqualTo(0), warnedOutput);
        Assert.That(warnedOutput, Does.Contain($"{view}(4,8): warning MIG2012: SR0001: The shape of the result set"));
        Assert.That(File.Exists(project.Dacpac), Is.True);

        var (promoted, promotedOutput) = await project.BuildAsync(null, "-p:WarningsAsErrors=MIG2012");

        Assert.That(promoted, Is.Not.EqualTo(0), promotedOutput);
        Assert.That(promotedOutput, Does.Contain($"{view}(4,8): error MIG2012: SR0001"));
        Assert.That(File.Exists(project.Dacpac), Is.False, "the earlier dacpac is gone, so the next build cannot skip to it");

        var (silenced, silencedOutput) = await project.BuildAsync(null, "-p:NoWarn=MIG2012");

        Assert.That(silenced, Is.EqualTo(0), silencedOutput);
        Assert.That(silencedOutput, Does.Not.Contain("warning MIG2012").And.Not.Contain("error MIG2012"));
        Assert.That(File.Exists(project.Dacpac), Is.True);
    }

    [Test]
    public async Task An_SSDT_projects_pasted_ItemGroups_build_with_their_DSP_SQLCMD_scripts_and_a_misspelled_item()
    {
        var project = await DatabaseProject.CreateAsync(
            engine: "SqlServer",
            extraProperties: "<DSP>Microsoft.Data.Tools.Schema.Sql.Sql130DatabaseSchemaProvider</DSP>",
            extraItems: """
                <Folder Include="dbo\" />
                <Folder Include="dbo\Stored Procedures\" />
                <Build Include="dbo\Tables\Customer.sql" />
                <Build Include="dbo\Stored Procedures\GetCustomer.sql" />
                <Build Include="dbo\Views\customerNames.sql" />
                <PreDeploy Include="Scripts\Script.PreDeployment.sql" />
                <PostDeploy Include="Scripts\Script.PostDeployment.sql" />
                <None Include="Scripts\Reference Data\Countries.sql" />
                <SqlCmdVariable Include="Environment">
                  <DefaultValue>dev</DefaultValue>
                  <Value>$(SqlCmdVar__1)</Value>
                </SqlCmdVariable>
                """);
        project.Write("dbo/Tables/Customer.sql", "\uFEFFCREATE TABLE [dbo].[Customer] ([CustomerId] INT NOT NULL PRIMARY KEY, [Name] NVARCHAR(100) NOT NULL);\n");
        project.Write("dbo/Stored Procedures/GetCustomer.sql", "CREATE PROCEDURE [dbo].[GetCustomer] @Id INT AS SELECT [Name] FROM [dbo].[Customer] WHERE [CustomerId] = @Id;\n");
        var view = project.Write("dbo/Views/CustomerNames.sql", "CREATE VIEW [dbo].[CustomerNames] AS SELECT [Name] FROM [dbo].[Customer];\n");
        project.Write("Scripts/Script.PreDeployment.sql", "PRINT N'Deploying $(DatabaseName)';\n");
        project.Write("Scripts/Script.PostDeployment.sql", ":setvar Owner \"ops\"\n:r \".\\Reference Data\\Countries.sql\"\nPRINT N'Deployed $(DatabaseName) in $(Environment) by $(Owner)';\n");
        project.Write("Scripts/Reference Data/Countries.sql", "MERGE INTO [dbo].[Customer] AS t USING (VALUES (1, N'First')) AS s ([CustomerId], [Name]) ON t.[CustomerId] = s.[CustomerId]\nWHEN NOT MATCHED THEN INSERT ([CustomerId], [Name]) VALUES (s.[CustomerId], s.[Name]);\n");
        // Not a Build item: listing Build items replaces the Schema/ glob, as in SSDT, so this broken file is not compiled.
        project.Write("Schema/Stray.sql", "CREATE TABLE dbo.Stray (Id int,, Name int);\n");

        var (exitCode, output) = await project.BuildAsync();

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain($"Built {project.Dacpac} (Sql130) from 3 schema file(s) with pre- and post-deployment scripts"));
        Assert.That(output, Does.Contain($"warning MIG2024: '{project.PathOf("dbo/Views/customerNames.sql")}' does not exist, but '{view}' does, which differs only in case"));
        using var dacpac = ZipFile.OpenRead(project.Dacpac);
        var model = new StreamReader(dacpac.GetEntry("model.xml")!.Open()).ReadToEnd();
        Assert.That(model, Does.Contain("[dbo].[Customer]").And.Contain("[dbo].[GetCustomer]").And.Contain("[dbo].[CustomerNames]").And.Not.Contain("Stray"));
        Assert.That(model, Does.Contain("Sql130DatabaseSchemaProvider"));
        Assert.That(new StreamReader(dacpac.GetEntry("predeploy.sql")!.Open()).ReadToEnd(), Is.EqualTo("PRINT N'Deploying Db';\n"));
        var post = new StreamReader(dacpac.GetEntry("postdeploy.sql")!.Open()).ReadToEnd();
        Assert.That(post, Does.Contain("MERGE INTO [dbo].[Customer] AS t").And.Contain("PRINT N'Deployed Db in dev by ops';"));
    }

    [Test]
    public async Task A_Build_item_spelled_in_another_case_than_its_file_warns_once_and_the_next_build_skips_the_dacpac()
    {
        var project = await DatabaseProject.CreateAsync(engine: "SqlServer", extraItems: """<Build Include="schema/Orders.SQL" />""");
        var orders = project.Write("Schema/Orders.sql", "CREATE TABLE dbo.Orders (OrderId int NOT NULL CONSTRAINT PK_Orders PRIMARY KEY);\n");

        var (first, firstOutput) = await project.BuildAsync(null, "-p:MigrationDevDatabase=none");

        Assert.That(first, Is.EqualTo(0), firstOutput);
        Assert.That(firstOutput, Does.Contain($"warning MIG2024: '{project.PathOf("schema/Orders.SQL")}' does not exist, but '{orders}' does"));
        var built = File.GetLastWriteTimeUtc(project.Dacpac);

        var (second, secondOutput) = await project.BuildAsync(null, "-p:MigrationDevDatabase=none", "-v:d");

        Assert.That(second, Is.EqualTo(0), secondOutput);
        Assert.That(secondOutput, Does.Contain("Skipping target \"_MigrationBuildDacpac\" because all output files are up-to-date"));
        Assert.That(File.GetLastWriteTimeUtc(project.Dacpac), Is.EqualTo(built), "the dacpac is not written again");

        project.Write("Schema/Orders.sql", "CREATE TABLE dbo.Orders (OrderId int NOT NULL CONSTRAINT PK_Orders PRIMARY KEY, Note nvarchar(10) NULL);\n");
        var (third, thirdOutput) = await project.BuildAsync(null, "-p:MigrationDevDatabase=none");

        Assert.That(third, Is.EqualTo(0), thirdOutput);
        Assert.That(thirdOutput, Does.Contain($"Built {project.Dacpac}"), "a change of the file as spelled on disk builds again");
    }

    [Test]
    public async Task With_the_model_server_a_one_file_change_is_built_warm_into_the_model_xml_a_cold_build_writes()
    {
        var project = await DatabaseProject.CreateAsync(engine: "SqlServer");
        project.Write("Schema/Customer.sql", "CREATE TABLE dbo.Customer (CustomerId int NOT NULL CONSTRAINT PK_Customer PRIMARY KEY, Name nvarchar(100) NOT NULL);\n");
        project.Write("Schema/Names.sql", "CREATE VIEW dbo.Names AS SELECT Name FROM dbo.Customer;\n");
        project.Write("Schema/Get.sql", "CREATE PROCEDURE dbo.GetCustomer @Id int AS SELECT Name FROM dbo.Customer WHERE CustomerId = @Id;\n");
        // Short: a socket's path has room for about 100 bytes, and the project's folder is longer than that.
        var servers = Path.Combine(Path.GetTempPath(), "mt-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        var environment = new Dictionary<string, string?> { ["MIGRATIONTASKS_MODEL_SERVER"] = "1", ["MIGRATIONTASKS_MODEL_SERVER_DIR"] = servers };
        try
        {
            var (first, firstOutput) = await project.BuildAsync(environment, "-p:MigrationDevDatabase=none", "-p:MigrationModelServerIdleTimeout=120");

            Assert.That(first, Is.EqualTo(0), firstOutput);
            Assert.That(firstOutput, Does.Contain($"Built {project.Dacpac}").And.Not.Contain("Model server ("), "the first build is cold and starts the server");
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (!(Directory.Exists(servers) && Directory.GetFiles(servers, "*.log").Any(f => File.ReadAllText(f).Contains(" built "))) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            var names = project.Write("Schema/Names.sql", "CREATE VIEW dbo.Names AS SELECT CustomerId, Name FROM dbo.Customer;\n");
            var (second, secondOutput) = await project.BuildAsync(environment, "-p:MigrationDevDatabase=none", "-p:MigrationModelServerIdleTimeout=120");

            Assert.That(second, Is.EqualTo(0), secondOutput);
            Assert.That(secondOutput, Does.Match(@"Model server \(process \d+\): 1 of 3 schema file\(s\) modelled again"));
            var cold = project.PathOf("cold/Db.dacpac");
            var (coldExit, coldOutput) = await ProcessRunner.RunAsync(
                "dotnet",
                [project.TrustedRunner, "build-dacpac", "--schema", project.PathOf("Schema/Customer.sql"), "--schema", project.PathOf("Schema/Get.sql"), "--schema", names,
                 "--out", cold, "--database-name", "Db", "--model-server", "false"],
                project.Directory,
                null,
                TimeSpan.FromMinutes(5));
            Assert.That(coldExit, Is.EqualTo(0), coldOutput);
            Assert.That(ModelXml(project.Dacpac), Is.EqualTo(ModelXml(cold)), "model.xml of the warm build is a cold build's, byte for byte");
        }
        finally
        {
            await ProcessRunner.RunAsync("dotnet", [project.TrustedRunner, "model-server", "--stop"], project.Directory, environment, TimeSpan.FromMinutes(1));
            if (Directory.Exists(servers))
            {
                Directory.Delete(servers, recursive: true);
            }
        }
    }

    private static byte[] ModelXml(string dacpac)
    {
        using var zip = ZipFile.OpenRead(dacpac);
        using var model = zip.GetEntry("model.xml")!.Open();
        var bytes = new MemoryStream();
        model.CopyTo(bytes);
        return bytes.ToArray();
    }
}
