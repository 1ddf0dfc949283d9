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
    public async Task A_production_holding_hostile_names_is_backed_up_and_deployed_to()
    {
        var production = await Production.CreateAsync();
        await production.ExecuteAsync("""
            CREATE TABLE "new
            line" (id int PRIMARY KEY);
            INSERT INTO "new
            line" VALUES (1), (2);
            """);
        var deploy = new Deploy(production, await ReleaseWorkshop.PackageAsync(production.BaselinePath, [Faults.V2]));

        var (exit, output) = await deploy.RunAsync();

        // Production holds a table the baseline does not: refused, and for that reason, not a disk message.
        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("error MIG6010").And.Not.Contain("MIG6002"));
    }
}
