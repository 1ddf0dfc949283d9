using System.Collections.Immutable;
using MigrationTasks.Scripts;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Scripts;

/// <summary>
/// Follows <c>@@TRANCOUNT</c> through a script's own BEGIN/COMMIT/ROLLBACK TRANSACTION statements, to find one that a
/// script run batch by batch leaves open (MIG2027). Without running it, so branches are guessed in the script's
/// favour: statements under BEGIN…END, TRY…CATCH and WHILE count in the order they are written (a COMMIT in the TRY
/// and a ROLLBACK in the CATCH both end what the TRY began); of an IF…ELSE IF…ELSE chain, the branch that leaves the
/// fewest transactions open counts, and an IF without ELSE counts as taken. Bodies of procedures, functions and
/// triggers do not count: creating one runs none of its statements.
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

        // As deep as the script is nested, like the parse that made the tree.
        return TSqlScriptParser.OnParserStack(() => FollowAll(TranCount.None, script.Batches.SelectMany(b => b.Statements)).Outermost);
    }

    private static TranCount FollowAll(TranCount count, IEnumerable<TSqlStatement>? statements) =>
        (statements ?? []).Aggregate(count, Follow);

    private static TranCount Follow(TranCount count, TSqlStatement? statement) => statement switch
    {
        BeginTransactionStatement begin => count.Begin(begin),
        // COMMIT only lowers @@TRANCOUNT by one; the outermost commits.
        CommitTransactionStatement => count.Commit(),
        SaveTransactionStatement { Name.Value: { } savepoint } => count with { Savepoints = count.Savepoints.Add(savepoint) },
        // Without a savepoint's name, ROLLBACK ends every level at once.
        RollbackTransactionStatement rollback when rollback.Name?.Value is not { } name || !count.Savepoints.Contains(name) => count.RollBack(),
        BeginEndBlockStatement block => FollowAll(count, block.StatementList?.Statements),
        TryCatchStatement tryCatch => FollowAll(FollowAll(count, tryCatch.TryStatements?.Statements), tryCatch.CatchStatements?.Statements),
        IfStatement chain => Branches(chain).Select(branch => Follow(count, branch)).MinBy(after => after.Depth)!,
        WhileStatement loop => Follow(count, loop.Statement),
        _ => count,
    };

    /// <summary>The statements of an IF, its ELSE IFs and its last ELSE, if any: one of them runs.</summary>
    private static IEnumerable<TSqlStatement> Branches(IfStatement chain)
    {
        for (IfStatement? current = chain; current is not null; current = current.ElseStatement as IfStatement)
        {
            yield return current.ThenStatement;
            if (current.ElseStatement is { } last and not IfStatement)
            {
                yield return last;
            }
        }
    }

    /// <param name="Open">The BEGIN TRANSACTIONs not yet ended, innermost on top.</param>
    private sealed record TranCount(ImmutableStack<BeginTransactionStatement> Open, int Depth, ImmutableHashSet<string> Savepoints)
    {
        public static readonly TranCount None = new([], 0, ImmutableHashSet.Create<string>(StringComparer.OrdinalIgnoreCase));

        public BeginTransactionStatement? Outermost => Open.LastOrDefault();

        public TranCount Begin(BeginTransactionStatement begin) => this with { Open = Open.Push(begin), Depth = Depth + 1 };

        public TranCount Commit() => Depth == 0 ? this : this with { Open = Open.Pop(), Depth = Depth - 1 };

        public TranCount RollBack() => this with { Open = [], Depth = 0 };
    }
}
