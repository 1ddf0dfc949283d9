using MigrationTasks.Engines;

namespace MigrationTasks.Applying;

/// <summary>
/// How every engine applies a migration and records it in its history (<see cref="ITargetDatabase.ApplyAsync"/>,
/// <see cref="IReleaseTransaction.ApplyAsync"/>), over the engine's <see cref="IMigrationSession"/>.
/// </summary>
/// <remarks>
/// A transactional migration claims its history row before its first statement and commits with it, so that it is
/// applied whole and at most once, or not at all. A non-transactional one (e.g. CREATE INDEX CONCURRENTLY) cannot be
/// undone: its row is Running from the start and records its progress after every statement, so that a failure
/// leaves the statements before it applied and recorded, and the next run resumes after them.
/// </remarks>
public static class MigrationApplier
{
    /// <summary>The history's error text of a statement that was cancelled while it ran.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>
    /// Applies one migration in its own transaction, or statement by statement from <see cref="MigrationStep.FirstStatement"/>
    /// when it cannot run in one. Throws <see cref="ScriptFailedException"/> after recording the failure.
    /// </summary>
    public static async Task ApplyAsync(IMigrationSession session, MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        // A runner whose lock session was ended stops before the migration, not after it.
        await session.ProveLockAsync(cancellationToken);
        if (step.Script.InTransaction)
        {
            await InOwnTransactionAsync(session, step, context, cancellationToken);
        }
        else
        {
            await StatementByStatementAsync(session, step, cancellationToken);
        }
    }

    /// <summary>
    /// Applies a migration inside a transaction that holds more than it (a release's): claimed, run and completed;
    /// the caller commits, or rolls back all of it.
    /// </summary>
    public static async Task ApplyInAsync(IMigrationTransaction transaction, MigrationStep step, CancellationToken cancellationToken)
    {
        // Claimed before the first statement: a concurrent deploy of the same migration waits here, not half-way.
        var claim = await transaction.ClaimAsync(step, cancellationToken);
        await transaction.ExecuteAsync(step, cancellationToken);
        await transaction.CompleteClaimAsync(claim, step, cancellationToken);
    }

    /// <summary>Refuses a migration that cannot run inside a release's one transaction (the runner never plans one so).</summary>
    public static void RequireTransactional(MigrationStep step)
    {
        if (!step.Script.InTransaction)
        {
            throw new InvalidOperationException($"{step.File.ScriptName} cannot run inside a transaction; the release must run migration by migration.");
        }
    }

    private static async Task InOwnTransactionAsync(IMigrationSession session, MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        await using var transaction = await session.BeginTransactionAsync(cancellationToken);
        try
        {
            await ApplyInAsync(transaction, step, cancellationToken);
            // The last moment a lost lock can still stop the migration: after this, it is committed.
            await session.ProveLockAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception stopped) when (stopped is ScriptFailedException or OperationCanceledException)
        {
            await transaction.RollBackAsync();
            if (stopped is ScriptFailedException failure && context.RecordFailures)
            {
                await session.InsertAsync(step, HistoryOutcome.Failed, 0, session.Describe(failure), CancellationToken.None);
            }

            throw;
        }
    }

    private static async Task StatementByStatementAsync(IMigrationSession session, MigrationStep step, CancellationToken cancellationToken)
    {
        var statements = step.Script.Statements;
        var id = await session.InsertAsync(step, HistoryOutcome.Running, step.FirstStatement, null, cancellationToken);
        // Where the script's own BEGIN opened a transaction it has not ended yet (-1: none open).
        var openedAt = -1;
        for (var i = step.FirstStatement; i < statements.Count; i++)
        {
            await session.ProveLockAsync(cancellationToken);
            if (openedAt < 0)
            {
                await session.BeginStretchAsync(cancellationToken);
            }

            try
            {
                await session.ExecuteAsync(step, i, cancellationToken);
            }
            catch (Exception stopped) when (stopped is ScriptFailedException || (stopped is OperationCanceledException && session.RecordsCancellation))
            {
                await RecordStopAsync(session, id, step, i, openedAt, stopped as ScriptFailedException);
                throw;
            }

            var done = i + 1 == statements.Count;
            var inScriptTransaction = await session.UpdateAsync(id, step, i + 1, done ? HistoryOutcome.Success : HistoryOutcome.Running, null, cancellationToken);
            openedAt = inScriptTransaction ? (openedAt < 0 ? i : openedAt) : -1;
            if (!inScriptTransaction)
            {
                // Outside a transaction again: the stretch (one statement, or a transaction the script ran) is committed.
                await session.EndStretchAsync(cancellationToken);
            }
        }

        if (openedAt >= 0)
        {
            // The file ends inside a transaction it opened: nothing would ever commit it (and the session's reset before the
            // next migration would fail on it). Roll it back and say where it began.
            var failure = session.ScriptTransactionLeftOpen(statements[openedAt], openedAt + 1);
            await RecordStopAsync(session, id, step, openedAt, openedAt, failure);
            throw failure;
        }

        if (statements.Count == step.FirstStatement)
        {
            await session.UpdateAsync(id, step, statements.Count, HistoryOutcome.Success, null, cancellationToken);
        }
    }

    /// <summary>
    /// Records where a statement-by-statement migration stopped (<paramref name="failure"/> null: cancelled). Inside a
    /// transaction the script opened, the failure aborted it: it is rolled back first, taking back the statements
    /// since its BEGIN and their progress rows.
    /// </summary>
    private static async Task RecordStopAsync(IMigrationSession session, long id, MigrationStep step, int statement, int openedAt, ScriptFailedException? failure)
    {
        var applied = statement;
        if (openedAt >= 0)
        {
            await session.RollBackScriptTransactionAsync();
            applied = Math.Min(statement, openedAt);
        }

        await session.UpdateAsync(id, step, applied, HistoryOutcome.Failed, failure is null ? Cancelled : session.Describe(failure), CancellationToken.None);
        await session.EndStretchAsync(CancellationToken.None);
    }
}
