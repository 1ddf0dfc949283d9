using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Tests;
using MigrationTasks.Release;

namespace MigrationTasks.FaultInjection.Tests;

/// <summary>
/// "A table named with a newline makes every deploy refuse with a misleading disk message": names that hold a
/// newline, quotes, dollars, semicolons or emoji are backed up, proven, migrated and restored like any other.
/// </summary>
[TestFixture]
public sealed class HostileIdentifierTests
{
    private static readonly ReleaseWorkshop.Script Hostile = new("V2__hostile_names.sql", """
        CREATE SCHEMA "the ""odd"" one";
        CREATE TABLE "the ""odd"" one"."line
        break" (id int PRIMARY KEY, "semi;colon" text, "$$dollar$$" text);
        INSERT INTO "the ""odd"" one"."line
        break" VALUES (1, 'a''b', 'c$$d'), (2, E'new\nline', 'Zürich 📦');
        CREATE TABLE "Zürich 📦" (id int);
        INSERT INTO "Zürich 📦" SELECT generate_series(1, 50);
        """);

    [Test]
    public async Task Tables_with_hostile_names_deploy_and_a_failure_after_them_restores_every_row()
    {
        var production = await Production.CreateAsync();
        var before = await production.StateAsync();
        var failing = new ReleaseWorkshop.Script("V3__index.sql", "-- migrationtasks: no-transaction\nCREATE INDEX CONCURRENTLY customer_email ON customer (email);\n" + Faults.FailOnProduction);
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Hostile, failing]));

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Not.Contain("MIG6002"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task A_production_holding_hostile_names_is_backed_up_proven_and_restored_like_any_other()
    {
        var production = await Production.CreateAsync();
        await PostgresServer.QueryAsync(production.ConnectionString, """
            CREATE TABLE "new
            line" (id int PRIMARY KEY, "a ""quoted"" column" text);
            INSERT INTO "new
            line" VALUES (1, 'x'), (2, E'y\nz');
            CREATE SCHEMA "semi;colon $$";
            CREATE TABLE "semi;colon $$"."Zürich 📦" (id int);
            INSERT INTO "semi;colon $$"."Zürich 📦" SELECT generate_series(1, 20);
            SELECT 1
            """);
        var before = await production.StateAsync();
        // Production's baseline as `migrate baseline` exports it, hostile tables and all.
        var baseline = ScratchFolder.PathFor($"hostile-baseline-{Guid.NewGuid():N}.json");
        var engine = new PostgresEngine();
        await using (var database = await engine.ConnectAsync(production.ConnectionString, CancellationToken.None))
        {
            (await MigrationBaseline.ExportAsync(engine.Name, database, CancellationToken.None)).Save(baseline);
        }

        var failing = new ReleaseWorkshop.Script("V3__index.sql", "-- migrationtasks: no-transaction\nCREATE INDEX CONCURRENTLY customer_email ON customer (email);\n" + Faults.FailOnProduction);
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(baseline, [Faults.V2, failing]));

        var (exit, output) = await deploy.RunAsync();

        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("with the data of each of the 5 tables").And.Contain("restored and proven").And.Not.Contain("MIG6002"));
        Assert.That(await production.StateAsync(), Is.EqualTo(before));
    }
}
