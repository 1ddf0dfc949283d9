namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// A transactional migration runs in one transaction that MigrationTasks begins and commits, with XACT_ABORT ON.
/// <c>@@TRANCOUNT</c> is read after each batch: a script's own BEGIN/COMMIT pairs nest harmlessly inside it, but a
/// COMMIT or ROLLBACK that ends it (count 0) would commit part of the migration, or roll it back and let the rest
/// run outside any transaction; and a BEGIN left open at the end (count above 1) would make our commit a no-op.
/// </summary>
internal static class TransactionCountRule
{
    /// <summary>The problem, or null when <paramref name="tranCount"/> is what it must be after this batch.</summary>
    public static string? Check(int tranCount, bool lastBatch)
    {
        if (tranCount < 1)
        {
            return "this batch ended the migration's transaction (a COMMIT or ROLLBACK without its own BEGIN TRANSACTION): " +
                   "MigrationTasks runs a transactional migration in one transaction of its own and commits it. Remove the COMMIT/ROLLBACK, " +
                   "or add the line '-- migrationtasks: no-transaction' to run the file batch by batch without one";
        }

        if (lastBatch && tranCount > 1)
        {
            return $"the script left {tranCount - 1} transaction(s) open (BEGIN TRANSACTION without COMMIT): " +
                   "every BEGIN TRANSACTION needs its COMMIT in the same file";
        }

        return null;
    }
}
