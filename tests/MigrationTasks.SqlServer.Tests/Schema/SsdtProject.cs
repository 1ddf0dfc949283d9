using System.Globalization;
using System.Text;

namespace MigrationTasks.SqlServer.Tests.Schema;

/// <summary>
/// An SSDT project as teams have them, generated into a folder: the old <c>.sqlproj</c> layout (backslashed item
/// paths, folders with spaces such as <c>dbo\Stored Procedures\</c>), a few hundred tables, views, procedures and
/// functions, filegroups declared in a <c>Storage\</c> script, a memory-optimized table, a partition function and
/// scheme with a partitioned table, a temporal table with its history table, a clustered columnstore index, row-level
/// security with its inline predicate function, files with a UTF-8 BOM, one Build item whose case differs from the
/// file, and pre/post-deployment scripts that use <c>:r</c> (quoted, backslashed, parent-relative, nested),
/// <c>:setvar</c>, <c>$(DatabaseName)</c> and a SqlCmdVariable.
/// </summary>
internal sealed class SsdtProject
{
    private readonly ScratchFolder _folder;
    private readonly List<string> _build = [];

    private SsdtProject(ScratchFolder folder) => _folder = folder;

    /// <summary>The Build items' Include values, exactly as a .sqlproj writes them (backslashes, spaces).</summary>
    public IReadOnlyList<string> BuildItems => _build;

    public string PreDeployItem => @"Scripts\Script.PreDeployment.sql";

    public string PostDeployItem => @"Scripts\Post Deployment\Script.PostDeployment.sql";

    /// <summary>The SqlCmdVariable items: name and DefaultValue.</summary>
    public IReadOnlyDictionary<string, string> SqlCmdVariables { get; } = new Dictionary<string, string> { ["Environment"] = "test" };

    /// <summary>The Build item written in another case than its file (SSDT on Windows never noticed).</summary>
    public string MisspelledItem => @"dbo\Tables\TABLE007.sql";

    public string MisspelledFile => _folder.PathOf("dbo/Tables/Table007.sql");

    /// <summary>A path as MSBuild may hand it over on Linux: the project folder, then the Include value unchanged.</summary>
    public string PathOf(string include) => _folder.Directory + "/" + include;

    public static SsdtProject Generate(ScratchFolder folder, int objectsPerKind)
    {
        var project = new SsdtProject(folder);
        project.WriteStorageAndSpecialTables();
        for (var i = 1; i <= objectsPerKind; i++)
        {
            var n = i.ToString("000", CultureInfo.InvariantCulture);
            var tableItem = i == 7 ? project.MisspelledItem : $@"dbo\Tables\Table{n}.sql";
            project.Write($@"dbo\Tables\Table{n}.sql", $"""
                CREATE TABLE [dbo].[Table{n}]
                (
                    [Id] INT NOT NULL CONSTRAINT [PK_Table{n}] PRIMARY KEY,
                    [Name] NVARCHAR(100) NOT NULL,
                    [Amount] DECIMAL(10, 2) NULL
                );
                """, item: tableItem, bom: i % 3 == 0);
            project.Write($@"dbo\Views\View{n}.sql", $"""
                CREATE VIEW [dbo].[View{n}]
                AS
                SELECT [Id], [Name] FROM [dbo].[Table{n}];
                """);
            project.Write($@"dbo\Stored Procedures\Get{n}.sql", $"""
                CREATE PROCEDURE [dbo].[Get{n}]
                    @Id INT
                AS
                BEGIN
                    SET NOCOUNT ON;
                    SELECT [Id], [Name], [Amount] FROM [dbo].[Table{n}] WHERE [Id] = @Id;
                END
                """);
            project.Write($@"dbo\Functions\AmountOf{n}.sql", $"""
                CREATE FUNCTION [dbo].[AmountOf{n}] (@Id INT)
                RETURNS DECIMAL(10, 2)
                AS
                BEGIN
                    RETURN (SELECT [Amount] FROM [dbo].[Table{n}] WHERE [Id] = @Id);
                END
                """);
        }

        project.WriteDeploymentScripts();
        return project;
    }

    private void WriteStorageAndSpecialTables()
    {
        // SSDT declares filegroups against the database being built; DacFx's model accepts them only in this form.
        Write(@"Storage\Filegroups.sql", """
            ALTER DATABASE [$(DatabaseName)] ADD FILEGROUP [InMemory] CONTAINS MEMORY_OPTIMIZED_DATA;
            GO
            ALTER DATABASE [$(DatabaseName)] ADD FILE (NAME = [InMemory_Container], FILENAME = N'$(DefaultDataPath)$(DefaultFilePrefix)_InMemory') TO FILEGROUP [InMemory];
            GO
            ALTER DATABASE [$(DatabaseName)] ADD FILEGROUP [Archive2020];
            GO
            ALTER DATABASE [$(DatabaseName)] ADD FILEGROUP [Archive2021];
            """);
        Write(@"Storage\Partitioning.sql", """
            CREATE PARTITION FUNCTION [pfOrderYear] (INT) AS RANGE RIGHT FOR VALUES (2021);
            GO
            CREATE PARTITION SCHEME [psOrderYear] AS PARTITION [pfOrderYear] TO ([Archive2020], [Archive2021]);
            """);
        Write(@"Security\Security.sql", "CREATE SCHEMA [Security];", bom: true);
        Write(@"dbo\Tables\OrderArchive.sql", """
            CREATE TABLE [dbo].[OrderArchive]
            (
                [OrderId] INT NOT NULL,
                [OrderYear] INT NOT NULL,
                CONSTRAINT [PK_OrderArchive] PRIMARY KEY ([OrderId], [OrderYear])
            ) ON [psOrderYear] ([OrderYear]);
            """);
        Write(@"dbo\Tables\SessionCache.sql", """
            CREATE TABLE [dbo].[SessionCache]
            (
                [SessionId] INT NOT NULL CONSTRAINT [PK_SessionCache] PRIMARY KEY NONCLUSTERED,
                [Payload] NVARCHAR(400) NULL
            ) WITH (MEMORY_OPTIMIZED = ON, DURABILITY = SCHEMA_AND_DATA);
            """);
        Write(@"dbo\Tables\Price.sql", """
            CREATE TABLE [dbo].[Price]
            (
                [PriceId] INT NOT NULL CONSTRAINT [PK_Price] PRIMARY KEY CLUSTERED,
                [Amount] DECIMAL(10, 2) NOT NULL,
                [ValidFrom] DATETIME2 GENERATED ALWAYS AS ROW START NOT NULL,
                [ValidTo] DATETIME2 GENERATED ALWAYS AS ROW END NOT NULL,
                PERIOD FOR SYSTEM_TIME ([ValidFrom], [ValidTo])
            ) WITH (SYSTEM_VERSIONING = ON (HISTORY_TABLE = [dbo].[PriceHistory]));
            """);
        Write(@"dbo\Tables\PriceHistory.sql", """
            CREATE TABLE [dbo].[PriceHistory]
            (
                [PriceId] INT NOT NULL,
                [Amount] DECIMAL(10, 2) NOT NULL,
                [ValidFrom] DATETIME2 NOT NULL,
                [ValidTo] DATETIME2 NOT NULL
            );
            """);
        Write(@"dbo\Tables\SalesFact.sql", """
            CREATE TABLE [dbo].[SalesFact]
            (
                [SaleDate] DATE NOT NULL,
                [ProductId] INT NOT NULL,
                [Quantity] INT NOT NULL
            );
            GO
            CREATE CLUSTERED COLUMNSTORE INDEX [CCI_SalesFact] ON [dbo].[SalesFact];
            """);
        Write(@"dbo\Tables\TenantDocument.sql", """
            CREATE TABLE [dbo].[TenantDocument]
            (
                [DocumentId] INT NOT NULL CONSTRAINT [PK_TenantDocument] PRIMARY KEY,
                [TenantId] INT NOT NULL,
                [Title] NVARCHAR(200) NOT NULL
            );
            """);
        Write(@"Security\Functions\fn_TenantPredicate.sql", """
            CREATE FUNCTION [Security].[fn_TenantPredicate] (@TenantId INT)
            RETURNS TABLE
            WITH SCHEMABINDING
            AS
            RETURN SELECT 1 AS [Allowed] WHERE @TenantId = CAST(SESSION_CONTEXT(N'TenantId') AS INT);
            """);
        Write(@"Security\TenantFilter.sql", """
            CREATE SECURITY POLICY [Security].[TenantFilter]
            ADD FILTER PREDICATE [Security].[fn_TenantPredicate]([TenantId]) ON [dbo].[TenantDocument]
            WITH (STATE = ON);
            """);
    }

    private void WriteDeploymentScripts()
    {
        // SSDT's template comment, with its own $(TableName) that no one defines: comments are left alone.
        const string template = """
            /*
            Post-Deployment Script Template
            --------------------------------------------------------------------------------------
             Use SQLCMD syntax to include a file in the post-deployment script.
             Example:      :r .\myfile.sql
             Use SQLCMD syntax to reference a variable in the post-deployment script.
             Example:      :setvar TableName MyTable
                           SELECT * FROM [$(TableName)]
            --------------------------------------------------------------------------------------
            */

            """;
        WriteFile(PreDeployItem, template + "PRINT N'Pre-deploying $(DatabaseName)';\n", bom: true);
        WriteFile(PostDeployItem, template + """
            :on error exit
            :setvar SeedOwner "ops"
            :r ".\Reference Data\Countries.sql"
            :r ..\Shared\Currencies.sql
            PRINT N'Deployed $(DatabaseName) in $(Environment) by $(SeedOwner)';

            """, bom: false);
        WriteFile(@"Scripts\Post Deployment\Reference Data\Countries.sql", """
            MERGE INTO [dbo].[Table001] AS t
            USING (VALUES (1, N'Norway')) AS s ([Id], [Name]) ON t.[Id] = s.[Id]
            WHEN NOT MATCHED THEN INSERT ([Id], [Name]) VALUES (s.[Id], s.[Name]);
            """, bom: true);
        WriteFile(@"Scripts\Shared\Currencies.sql", "PRINT N'Currencies';\n:r Nested\\Rates.sql\n", bom: false);
        WriteFile(@"Scripts\Shared\Nested\Rates.sql", "UPDATE [dbo].[Table002] SET [Amount] = 1 WHERE [Id] = 1;\n", bom: false);
    }

    private void Write(string include, string text, string? item = null, bool bom = false)
    {
        WriteFile(include, text + "\n", bom);
        _build.Add(item ?? include);
    }

    private void WriteFile(string include, string text, bool bom)
    {
        var path = _folder.PathOf(include.Replace('\\', '/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(bom));
    }
}
