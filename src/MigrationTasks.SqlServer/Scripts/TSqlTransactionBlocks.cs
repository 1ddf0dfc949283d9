using MigrationTasks.Scripts;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Scripts;

/// <summary>
/// Follows <c>@@TRANCOUNT</c> through a script's own BEGIN/COMMIT/ROLLBACK TRANSACTION statements, to find one that a
/// script run batch by batch leaves open (MIG2027). Statements under IF, WHILE, BEGIN…END and TRY…CATCH count in the
/// order they are written, whichever branch would run: a COMMIT or ROLLBACK anywhere after a BEGIN TRANSACTION
/// (typically one in the TRY and one in the CATCH) is taken to end it, so that only a BEGIN nothing can end is
/// refused. Bodies of procedures, functions and triggers do not count: creating one runs none of its statements.
/// </summary>
public static class TSqlTransactionBlocks
{
    /// <summary>Refuses (MIG2027) a script that runs batch by batch and leaves a transaction of its own open.</summary>
    /// <param name="outsideTransactionReason">Null for a script that runs in the runner's transaction: not checked here,
    /// since the runner reads @@TRANCOUNT after each batch of those and rolls back one that leaves a BEGIN open.</param>
    /// <exception cref="MigrationTasks.Diagnostics.DiagnosticException">At the BEGIN TRANSACTION left open.</exception>
    public static void RefuseUnended(string path, TSqlScript script, string? outsideTransactionReason)
    {
        if (outsideTransactionReason is null || LeftOpenBy(script) is not { } begin)
        {
            return;
        }

        throw UnendedTransaction.Error(
            path,
            begin.StartLine,
            begin.StartColumn,
            "BEGIN TRANSACTION",
            outsideTransactionReason,
            "batch",
            "batches",
            "Add COMMIT TRANSACTION where the transaction should end, or remove the BEGIN TRANSACTION.");
    }

    /// <summary>The outermost BEGIN TRANSACTION still open after the last batch, or null.</summary>
    public static BeginTransactionStatement? LeftOpenBy(TSqlScript script)
    {
        ArgumentNullException.ThrowIfNull(script);

        var count = new TranCount();
        foreach (var statement in script.Batches.SelectMany(b => b.Statements))
        {
            count.Follow(statement);
        }

        return count.Outermost;
    }

    private sealed class TranCount
    {
        private readonly Stack<BeginTransactionStatement> _open = new();
        private readonly HashSet<string> _savepoints = new(StringComparer.OrdinalIgnoreCase);

        public BeginTransactionStatement? Outermost => _open.LastOrDefault();

        public void Follow(TSqlStatement? statement)
        {
            switch (statement)
            {
                case BeginTransactionStatement begin:
                    _open.Push(begin);
                    break;
                case CommitTransactionStatement:
                    // COMMIT only lowers @@TRANCOUNT by one; the outermost commits.
                    _open.TryPop(out _);
                    break;
                case SaveTransactionStatement save when save.Name?.Value is { } savepoint:
                    _savepoints.Add(savepoint);
                    break;
                case RollbackTransactionStatement rollback when rollback.Name?.Value is not { } name || !_savepoints.Contains(name):
                    // Without a savepoint's name, ROLLBACK ends every level at once.
                    _open.Clear();
                    break;
                case BeginEndBlockStatement block:
                    FollowAll(block.StatementList?.Statements);
                    break;
                case TryCatchStatement tryCatch:
                    FollowAll(tryCatch.TryStatements?.Statements);
                    FollowAll(tryCatch.CatchStatements?.Statements);
                    break;
                case IfStatement branch:
                    Follow(branch.ThenStatement);
                    Follow(branch.ElseStatement);
                    break;
                case WhileStatement loop:
                    Follow(loop.Statement);
                    break;
            }
        }

        private void FollowAll(IEnumerable<TSqlStatement>? statements)
        {
            foreach (var statement in statements ?? [])
            {
                Follow(statement);
            }
        }
    }
}
