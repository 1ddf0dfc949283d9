using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;

namespace MigrationTasks.SqlServer.Tests.Engine;

public sealed class SqlServerEnginePrepareTests
{
    private readonly SqlServerEngine _engine = new();

    [Test]
    public void A_script_is_split_into_its_GO_batches_each_with_its_line_and_column()
    {
        const string sql = "-- create and fill\nCREATE TABLE dbo.a (id int);\nGO\n\n  INSERT INTO dbo.a VALUES (1);\n  INSERT INTO dbo.a VALUES (2);\ngo\nCREATE VIEW dbo.v AS SELECT id FROM dbo.a;\n";

        var script = _engine.Prepare("V1__a.sql", sql);

        Assert.That(script.Statements.Select(s => (s.Text, s.Line, s.Column)), Is.EqualTo(new[]
        {
            ("CREATE TABLE dbo.a (id int);", 2, 1),
            ("INSERT INTO dbo.a VALUES (1);\n  INSERT INTO dbo.a VALUES (2);", 5, 3),
            ("CREATE VIEW dbo.v AS SELECT id FROM dbo.a;", 8, 1),
        }));
        Assert.That(script.Statements.All(s => sql.Substring(s.Offset, s.Text.Length) == s.Text));
        Assert.That(script.InTransaction, Is.True);
    }

    [Test]
    public void Every_syntax_error_of_the_file_is_reported_at_its_line_and_column()
    {
        var e = Assert.Throws<DiagnosticException>(() => _engine.Prepare("V2__b.sql", "INSERT INTO VALUES (1);\nGO\nSELECT 1;\nGO\nCREATE TABLE t (id int,, x int);\n"))!;

        Assert.That(e.Diagnostics.Select(d => d.ToString()), Is.EqualTo(new[]
        {
            "V2__b.sql(1,13): error MIG2010: T-SQL syntax error (Sql160): Incorrect syntax near 'VALUES'. (ScriptDom 46010)",
            "V2__b.sql(5,24): error MIG2010: T-SQL syntax error (Sql160): Incorrect syntax near ','. (ScriptDom 46010)",
        }));
    }

    [Test]
    public void A_script_of_statements_that_cannot_run_in_a_transaction_runs_outside_one()
    {
        var script = _engine.Prepare("V3__c.sql", "ALTER DATABASE CURRENT SET READ_COMMITTED_SNAPSHOT ON;\n");

        Assert.That(script.InTransaction, Is.False);
        Assert.That(script.OutsideTransactionReason, Is.EqualTo("ALTER DATABASE at line 1"));
    }

    [Test]
    public void Mixing_them_with_statements_that_need_a_transaction_is_MIG2005_unless_the_file_is_marked()
    {
        const string mixed = "CREATE TABLE dbo.a (id int);\nGO\nALTER DATABASE CURRENT SET READ_COMMITTED_SNAPSHOT ON;\n";

        var e = Assert.Throws<DiagnosticException>(() => _engine.Prepare("V4__d.sql", mixed))!;
        var marked = _engine.Prepare("V4__d.sql", "-- migrationtasks: no-transaction\n" + mixed);

        Assert.That(e.Diagnostics.Single().ToString(), Does.StartWith("V4__d.sql(3,1): error MIG2005: ALTER DATABASE cannot run inside a transaction"));
        Assert.That(marked.InTransaction, Is.False);
        Assert.That(marked.Statements, Has.Count.EqualTo(2));
    }

    [Test]
    public void No_server_path_yet_a_throwaway_server_is_unavailable_and_connecting_is_MIG1004()
    {
        Assert.ThrowsAsync<EphemeralServerUnavailableException>(() => _engine.StartEphemeralServerAsync("devdb", fresh: true, CancellationToken.None));
        var e = Assert.ThrowsAsync<DiagnosticException>(() => _engine.ConnectAsync("Server=localhost;Password=secret", CancellationToken.None))!;

        Assert.That(e.Diagnostics.Single().Code, Is.EqualTo(DiagnosticCodes.CannotConnect));
        Assert.That(e.Diagnostics.Single().Message, Does.Not.Contain("secret"));
    }
}
