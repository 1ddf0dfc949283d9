using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Engine;
using MigrationTasks.PostgreSql.Scripts;

namespace MigrationTasks.PostgreSql.Tests.Scripts;

public sealed class TransactionRulesTests
{
    [TestCase("CREATE INDEX CONCURRENTLY idx ON t (x)", "CREATE INDEX CONCURRENTLY")]
    [TestCase("create unique index concurrently if not exists idx on t (x)", "CREATE INDEX CONCURRENTLY")]
    [TestCase("CREATE /* why */ INDEX -- now\n CONCURRENTLY ON t (x)", "CREATE INDEX CONCURRENTLY")]
    [TestCase("-- leading comment\nDROP INDEX CONCURRENTLY IF EXISTS idx", "DROP INDEX CONCURRENTLY")]
    [TestCase("REINDEX TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY")]
    [TestCase("REINDEX (VERBOSE) INDEX CONCURRENTLY s.idx", "REINDEX CONCURRENTLY")]
    [TestCase("REINDEX (CONCURRENTLY) TABLE t", "REINDEX CONCURRENTLY")]
    [TestCase("REINDEX (VERBOSE, CONCURRENTLY true) TABLE t", "REINDEX CONCURRENTLY")]
    [TestCase("REINDEX DATABASE app", "REINDEX DATABASE")]
    [TestCase("reindex schema app", "REINDEX SCHEMA")]
    [TestCase("REINDEX SYSTEM", "REINDEX SYSTEM")]
    [TestCase("VACUUM", "VACUUM")]
    [TestCase("vacuum (analyze, verbose) t", "VACUUM")]
    [TestCase("VACUUM FULL t", "VACUUM")]
    [TestCase("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM")]
    [TestCase("CREATE DATABASE app", "CREATE DATABASE")]
    [TestCase("DROP DATABASE IF EXISTS app WITH (FORCE)", "DROP DATABASE")]
    [TestCase("CREATE TABLESPACE fast LOCATION '/ssd'", "CREATE TABLESPACE")]
    [TestCase("DROP TABLESPACE fast", "DROP TABLESPACE")]
    [TestCase("ALTER DATABASE app SET TABLESPACE fast", "ALTER DATABASE ... SET TABLESPACE")]
    [TestCase("ALTER DATABASE \"my app\" SET TABLESPACE fast", "ALTER DATABASE ... SET TABLESPACE")]
    [TestCase("CREATE SUBSCRIPTION s CONNECTION 'host=a' PUBLICATION p", "CREATE SUBSCRIPTION with create_slot = true")]
    [TestCase("CREATE SUBSCRIPTION s CONNECTION 'connect = false' PUBLICATION p WITH (copy_data = false)", "CREATE SUBSCRIPTION with create_slot = true")]
    [TestCase("DROP SUBSCRIPTION IF EXISTS s", "DROP SUBSCRIPTION")]
    [TestCase("ALTER SUBSCRIPTION s REFRESH PUBLICATION", "ALTER SUBSCRIPTION ... REFRESH PUBLICATION")]
    [TestCase("ALTER SUBSCRIPTION s REFRESH PUBLICATION WITH (copy_data = false)", "ALTER SUBSCRIPTION ... REFRESH PUBLICATION")]
    [TestCase("ALTER SUBSCRIPTION s SET PUBLICATION p", "ALTER SUBSCRIPTION ... PUBLICATION with refresh = true")]
    [TestCase("ALTER SUBSCRIPTION s ADD PUBLICATION p WITH (refresh = true)", "ALTER SUBSCRIPTION ... PUBLICATION with refresh = true")]
    [TestCase("ALTER SUBSCRIPTION s DROP PUBLICATION p WITH (copy_data = false)", "ALTER SUBSCRIPTION ... PUBLICATION with refresh = true")]
    [TestCase("ALTER TABLE ONLY s.m DETACH PARTITION s.p CONCURRENTLY", "ALTER TABLE ... DETACH PARTITION CONCURRENTLY")]
    [TestCase("CLUSTER", "CLUSTER without a table name")]
    [TestCase("CLUSTER VERBOSE", "CLUSTER without a table name")]
    [TestCase("DISCARD ALL", "DISCARD ALL")]
    public void Statements_refused_inside_a_transaction_block_are_named(string sql, string reason)
    {
        Assert.That(Reason(sql), Is.EqualTo(reason));
    }

    [TestCase("BEGIN")]
    [TestCase("begin transaction isolation level serializable")]
    [TestCase("START TRANSACTION")]
    [TestCase("COMMIT")]
    [TestCase("COMMIT AND CHAIN")]
    [TestCase("END")]
    [TestCase("ROLLBACK")]
    [TestCase("ABORT")]
    [TestCase("PREPARE TRANSACTION 'tx1'")]
    [TestCase("COMMIT PREPARED 'tx1'")]
    [TestCase("ROLLBACK PREPARED 'tx1'")]
    public void Transaction_control_written_in_the_script_is_refused(string sql)
    {
        Assert.That(Reason(sql), Is.EqualTo("transaction control statement"));
    }

    [TestCase("CREATE INDEX concurrently_named_idx ON t (x)")]
    [TestCase("CREATE UNIQUE INDEX idx ON t (x)")]
    [TestCase("CREATE INDEX \"CONCURRENTLY\" ON t (x)")]
    [TestCase("DROP INDEX idx_concurrently")]
    [TestCase("REINDEX TABLE t")]
    [TestCase("REINDEX INDEX concurrently_idx")]
    [TestCase("REINDEX (CONCURRENTLY false) TABLE t")]
    [TestCase("REFRESH MATERIALIZED VIEW CONCURRENTLY mv")]
    [TestCase("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'VACUUM' $$")]
    [TestCase("SELECT 'VACUUM; CREATE DATABASE x'")]
    [TestCase("ANALYZE t")]
    [TestCase("ALTER TYPE mood ADD VALUE 'happy'")]
    [TestCase("CALL do_things()")]
    [TestCase("ALTER DATABASE app SET work_mem = '1MB'")]
    [TestCase("ALTER TABLESPACE fast OWNER TO admin")]
    [TestCase("CREATE SUBSCRIPTION s CONNECTION 'host=a' PUBLICATION p WITH (create_slot = false, slot_name = s)")]
    [TestCase("CREATE SUBSCRIPTION s CONNECTION 'host=a' PUBLICATION p WITH (connect = off)")]
    [TestCase("ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false)")]
    [TestCase("ALTER SUBSCRIPTION s ENABLE")]
    [TestCase("ALTER SUBSCRIPTION s DISABLE")]
    [TestCase("ALTER SUBSCRIPTION s SET (slot_name = NONE)")]
    [TestCase("ALTER SUBSCRIPTION s OWNER TO admin")]
    [TestCase("ALTER TABLE m DETACH PARTITION p")]
    [TestCase("CLUSTER VERBOSE t USING idx")]
    [TestCase("DISCARD TEMP")]
    [TestCase("SAVEPOINT a")]
    [TestCase("RELEASE SAVEPOINT a")]
    [TestCase("ROLLBACK TO SAVEPOINT a")]
    [TestCase("ROLLBACK WORK TO a")]
    [TestCase("PREPARE q AS SELECT 1")]
    [TestCase("DO $$ BEGIN NULL; END $$")]
    [TestCase("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END")]
    public void Statements_allowed_inside_a_transaction_block_give_no_reason(string sql)
    {
        Assert.That(Reason(sql), Is.Null);
    }

    [TestCase("-- migrationtasks: no-transaction\nCREATE INDEX CONCURRENTLY idx ON t (x);")]
    [TestCase("SELECT 1;\r\n  -- MigrationTasks: No-Transaction  \r\nSELECT 2;")]
    [TestCase("SELECT 1;\n\t-- migrationtasks: no-transaction")]
    public void The_no_transaction_marker_is_found_on_a_line_of_its_own(string script)
    {
        Assert.That(TransactionRules.HasNoTransactionMarker(script), Is.True);
    }

    [TestCase("")]
    [TestCase("SELECT '\n-- migrationtasks: no-transaction\n';")]
    [TestCase("DO $$\n-- migrationtasks: no-transaction\nBEGIN NULL; END $$;")]
    [TestCase("/*\n-- migrationtasks: no-transaction\n*/ SELECT 1;")]
    [TestCase("SELECT 1; -- migrationtasks: no-transaction")]
    [TestCase("-- migrationtasks: no-transaction, please\nSELECT 1;")]
    public void The_no_transaction_marker_does_not_count_inside_quotes_or_after_other_text(string script)
    {
        Assert.That(TransactionRules.HasNoTransactionMarker(script), Is.False);
    }

    [TestCase("CREATE TABLE t (a int);\nBEGIN;\nINSERT INTO t VALUES (1);", 3, 1, "BEGIN")]
    [TestCase("BEGIN WORK;\nCOMMIT;\n\n  begin transaction isolation level serializable;\nUPDATE t SET a = 2;", 5, 3, "BEGIN")]
    [TestCase("START TRANSACTION READ WRITE;\nUPDATE t SET a = 2;", 2, 1, "START TRANSACTION")]
    [TestCase("BEGIN;\nBEGIN;\nUPDATE t SET a = 2;", 2, 1, "BEGIN")]
    [TestCase("BEGIN;\nUPDATE t SET a = 2;\nCOMMIT AND CHAIN;\nUPDATE t SET a = 3;", 4, 1, "COMMIT AND CHAIN")]
    [TestCase("BEGIN;\nUPDATE t SET a = 2;\nrollback work and chain;", 4, 1, "ROLLBACK AND CHAIN")]
    [TestCase("BEGIN;\nSAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\nRELEASE SAVEPOINT s;", 2, 1, "BEGIN")]
    [TestCase("BEGIN;\nCOMMIT PREPARED 'other';\nROLLBACK PREPARED 'another';", 2, 1, "BEGIN")]
    [TestCase("BEGIN;\nDO $$ BEGIN COMMIT; END $$;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;", 2, 1, "BEGIN")]
    public void A_no_transaction_script_that_ends_inside_a_transaction_it_opened_is_MIG2027_at_the_statement_that_opened_it(
        string statements, int line, int column, string opener)
    {
        var e = Assert.Throws<DiagnosticException>(() => Prepare(Marker + statements))!;

        Assert.That(e.Diagnostics.Single().ToString(), Does.StartWith($"V1__a.sql({line},{column}): error MIG2027: {opener} opens a transaction that the script never ends"));
    }

    [Test]
    public void The_MIG2027_message_says_why_nothing_would_commit_and_what_to_do()
    {
        var e = Assert.Throws<DiagnosticException>(() => Prepare(Marker + "BEGIN;\nUPDATE t SET a = 2;"))!;

        Assert.That(e.Diagnostics.Single().ToString(), Is.EqualTo(
            "V1__a.sql(2,1): error MIG2027: BEGIN opens a transaction that the script never ends: the file runs statement by statement outside "
            + "the runner's transaction (marked '-- migrationtasks: no-transaction'), so nothing would commit the statements after it, and they "
            + "would be rolled back when the session ends. Nothing was run. Add COMMIT; where the transaction should end, or remove the BEGIN."));
    }

    [Test]
    public void A_script_of_only_transaction_control_runs_outside_a_transaction_and_is_checked_too()
    {
        var e = Assert.Throws<DiagnosticException>(() => Prepare("VACUUM;\nBEGIN;"))!;

        Assert.That(e.Diagnostics.Single().ToString(), Does.StartWith("V1__a.sql(2,1): error MIG2027: BEGIN opens a transaction"));
        Assert.That(e.Diagnostics.Single().Message, Does.Contain("(VACUUM at line 1)"));
    }

    [TestCase("BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;")]
    [TestCase("begin;\nINSERT INTO t VALUES (1);\nend;")]
    [TestCase("BEGIN WORK;\nINSERT INTO t VALUES (1);\nABORT;")]
    [TestCase("START TRANSACTION;\nROLLBACK;")]
    [TestCase("BEGIN;\nSAVEPOINT s;\nROLLBACK TO s;\nCOMMIT WORK;")]
    [TestCase("BEGIN;\nPREPARE TRANSACTION 'tx1';\nCOMMIT PREPARED 'tx1';")]
    [TestCase("BEGIN;\nCOMMIT AND NO CHAIN;")]
    [TestCase("BEGIN;\nCOMMIT AND CHAIN;\nINSERT INTO t VALUES (1);\nCOMMIT;")]
    [TestCase("COMMIT;\nCOMMIT AND CHAIN;")]
    [TestCase("CREATE INDEX CONCURRENTLY i ON t (a);\nDO $$ BEGIN PERFORM 1; END $$;")]
    [TestCase("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;")]
    [TestCase("CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\nCALL p();")]
    [TestCase("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END';")]
    [TestCase("SELECT 'BEGIN';\nCREATE TABLE \"BEGIN\" (a int);\n/* BEGIN; */ -- BEGIN;\nSELECT 1;")]
    public void A_no_transaction_script_that_ends_every_transaction_it_opens_is_accepted(string statements)
    {
        Assert.That(Prepare(Marker + statements).InTransaction, Is.False);
    }

    [Test]
    public void A_transactional_script_holding_its_own_BEGIN_and_COMMIT_stays_refused_as_a_mixed_script()
    {
        // BEGIN and COMMIT cannot run inside the runner's transaction (the COMMIT would commit it early), so a
        // script that also holds ordinary statements is MIG2005 before its transaction blocks are looked at.
        var e = Assert.Throws<DiagnosticException>(() => Prepare("BEGIN;\nINSERT INTO t VALUES (1);"))!;

        Assert.That(e.Diagnostics.Single().ToString(), Does.StartWith("V1__a.sql(1,1): error MIG2005: transaction control statement cannot run inside a transaction"));
    }

    private const string Marker = "-- migrationtasks: no-transaction\n";

    private static PreparedScript Prepare(string script) =>
        new PostgresEngine().Prepare("V1__a.sql", script);

    private static string? Reason(string sql) =>
        TransactionRules.WhyNotInTransaction(PostgresStatementSplitter.Split(sql).Single());
}
