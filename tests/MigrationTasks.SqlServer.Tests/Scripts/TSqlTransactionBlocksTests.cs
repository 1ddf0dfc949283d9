using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.SqlServer.Engine;

namespace MigrationTasks.SqlServer.Tests.Scripts;

public sealed class TSqlTransactionBlocksTests
{
    private const string Marker = "-- migrationtasks: no-transaction\n";

    [TestCase("UPDATE dbo.t SET a = 1;\nGO\nBEGIN TRAN\nUPDATE dbo.t SET a = 2;\nGO\n", 4, 1)]
    [TestCase("BEGIN TRANSACTION;\nGO\nBEGIN TRANSACTION;\nCOMMIT;\nGO\n", 2, 1)]
    [TestCase("BEGIN DISTRIBUTED TRANSACTION;\nUPDATE dbo.t SET a = 2;\n", 2, 1)]
    [TestCase("BEGIN TRAN;\nSAVE TRANSACTION before_update;\nUPDATE dbo.t SET a = 2;\nROLLBACK TRANSACTION before_update;\n", 2, 1)]
    [TestCase("IF @@TRANCOUNT = 0\n    BEGIN TRANSACTION;\nUPDATE dbo.t SET a = 2;\n", 3, 5)]
    [TestCase("COMMIT;\nGO\nBEGIN TRAN;\nUPDATE dbo.t SET a = 2;\n", 4, 1)]
    [TestCase("DECLARE @x int = 1;\nIF @x = 1 COMMIT ELSE BEGIN TRAN;\nIF @x = 2 BEGIN TRAN ELSE BEGIN TRAN;\n", 4, 11)]
    public void A_batch_by_batch_script_that_leaves_its_own_transaction_open_is_MIG2027_at_the_BEGIN_TRANSACTION(string batches, int line, int column)
    {
        var e = Assert.Throws<DiagnosticException>(() => Prepare(Marker + batches))!;

        Assert.That(e.Diagnostics.Single().ToString(), Does.StartWith($"V1__a.sql({line},{column}): error MIG2027: BEGIN TRANSACTION opens a transaction that the script never ends"));
        Assert.That(e.Diagnostics.Single().Message, Does.EndWith("Add COMMIT TRANSACTION where the transaction should end, or remove the BEGIN TRANSACTION."));
    }

    [TestCase("BEGIN TRAN;\nUPDATE dbo.t SET a = 2;\nGO\nCOMMIT TRAN;\nGO\n")]
    [TestCase("BEGIN TRANSACTION outer_tx;\nBEGIN TRANSACTION;\nCOMMIT;\nUPDATE dbo.t SET a = 2;\nCOMMIT WORK;\n")]
    [TestCase("BEGIN TRAN t1;\nSAVE TRAN s1;\nROLLBACK TRAN s1;\nROLLBACK TRAN t1;\n")]
    [TestCase("BEGIN TRY\n  BEGIN TRANSACTION;\n  UPDATE dbo.t SET a = 2;\n  COMMIT;\nEND TRY\nBEGIN CATCH\n  IF @@TRANCOUNT > 0 ROLLBACK;\n  THROW;\nEND CATCH\n")]
    [TestCase("BEGIN TRANSACTION;\nBEGIN TRY\n  UPDATE dbo.t SET a = 2;\n  COMMIT;\nEND TRY\nBEGIN CATCH\n  ROLLBACK;\n  THROW;\nEND CATCH\n")]
    [TestCase("BEGIN TRAN;\nUPDATE dbo.t SET a = 2;\nIF @@ERROR <> 0 ROLLBACK ELSE COMMIT;\n")]
    [TestCase("DECLARE @x int = 1;\nIF @x = 1 BEGIN TRAN ELSE IF @x = 2 BEGIN TRAN ELSE BEGIN TRAN;\nUPDATE dbo.t SET a = 2;\nCOMMIT;\n")]
    [TestCase("BEGIN TRAN;\nIF @@TRANCOUNT > 0 COMMIT;\n")]
    [TestCase("DECLARE @i int = 0;\nWHILE @i < 3\nBEGIN\n  BEGIN TRAN;\n  SET @i += 1;\n  COMMIT;\nEND\n")]
    [TestCase("CREATE PROCEDURE dbo.p AS\nBEGIN\n  BEGIN TRANSACTION;\n  UPDATE dbo.t SET a = 2;\nEND\nGO\n")]
    [TestCase("SELECT 'BEGIN TRAN';\n-- BEGIN TRAN\n/* BEGIN TRANSACTION */\n")]
    public void A_batch_by_batch_script_that_ends_every_transaction_it_opens_is_accepted(string batches)
    {
        Assert.That(Prepare(Marker + batches).InTransaction, Is.False);
    }

    [Test]
    public void The_message_names_why_the_script_runs_batch_by_batch()
    {
        var e = Assert.Throws<DiagnosticException>(() => Prepare(Marker + "BEGIN TRAN;\nUPDATE dbo.t SET a = 2;\n"))!;

        Assert.That(e.Diagnostics.Single().ToString(), Is.EqualTo(
            "V1__a.sql(2,1): error MIG2027: BEGIN TRANSACTION opens a transaction that the script never ends: the file runs batch by batch outside "
            + "the runner's transaction (marked '-- migrationtasks: no-transaction'), so nothing would commit the batches after it, and they would "
            + "be rolled back when the session ends. Nothing was run. Add COMMIT TRANSACTION where the transaction should end, or remove the BEGIN TRANSACTION."));
    }

    [Test]
    public void A_transactional_script_is_left_to_the_runners_TRANCOUNT_check_after_each_batch()
    {
        // Inside the runner's transaction an open BEGIN is found at run time (TransactionCountRule) and rolled back
        // with everything else, so nothing half-done is left; offline, only scripts run batch by batch are refused.
        Assert.That(Prepare("BEGIN TRAN;\nUPDATE dbo.t SET a = 2;\n").InTransaction, Is.True);
    }

    private static PreparedScript Prepare(string script) => new SqlServerEngine().Prepare("V1__a.sql", script);
}
