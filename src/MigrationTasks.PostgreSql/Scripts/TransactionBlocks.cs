using MigrationTasks.Scripts;

namespace MigrationTasks.PostgreSql.Scripts;

/// <summary>
/// Follows the transaction block that a script's own statements open and end when it runs statement by statement,
/// as the server's session would, to find a block the script leaves open (MIG2027). Only statements' first words
/// count: a BEGIN inside a function body, a DO block or a <c>BEGIN ATOMIC</c> body is part of the statement that holds
/// it, which the splitter keeps whole. A BEGIN inside an open block is only a warning to the server, and savepoints
/// do not change whether a block is open.
/// </summary>
public static class TransactionBlocks
{
    // Enough for the longest pattern below: ROLLBACK TRANSACTION AND NO CHAIN.
    private const int WordsToRead = 5;

    private enum Effect
    {
        None,
        Opens,
        Ends,

        /// <summary>COMMIT AND CHAIN and kin: ends the open block and at once opens another.</summary>
        EndsAndOpens,
    }

    /// <summary>
    /// Refuses (MIG2027) a script that runs outside the runner's transaction and ends inside a block it opened.
    /// </summary>
    /// <param name="outsideTransactionReason">Null for a script that runs in the runner's transaction: not checked, since a
    /// BEGIN or COMMIT there already makes it a mixed script (MIG2005).</param>
    /// <exception cref="MigrationTasks.Diagnostics.DiagnosticException">At the statement that opened the block.</exception>
    public static void RefuseUnended(string path, IReadOnlyList<ScriptStatement> statements, string? outsideTransactionReason)
    {
        if (outsideTransactionReason is null || LeftOpenBy(statements) is not { } opener)
        {
            return;
        }

        var first = StatementWords.LeadingWords(opener.Text, 1)[0];
        var (name, remedy) = Classify(opener) == Effect.EndsAndOpens
            ? ($"{first} AND CHAIN", $"Write this {first} without AND CHAIN, or add COMMIT; where the transaction it starts should end.")
            : first == "START"
                ? ("START TRANSACTION", "Add COMMIT; where the transaction should end, or remove the START TRANSACTION.")
                : ("BEGIN", "Add COMMIT; where the transaction should end, or remove the BEGIN.");
        throw UnendedTransaction.Error(path, opener.Line, opener.Column, name, outsideTransactionReason, "statement", "statements", remedy);
    }

    /// <summary>The statement that opened the transaction block still open after the last one; null when none is.</summary>
    public static ScriptStatement? LeftOpenBy(IReadOnlyList<ScriptStatement> statements)
    {
        ArgumentNullException.ThrowIfNull(statements);

        ScriptStatement? openedBy = null;
        foreach (var statement in statements)
        {
            switch (Classify(statement))
            {
                case Effect.Opens:
                    openedBy ??= statement;
                    break;
                case Effect.Ends:
                    openedBy = null;
                    break;
                case Effect.EndsAndOpens when openedBy is not null:
                    // Outside a block the server refuses AND CHAIN, which then opens nothing.
                    openedBy = statement;
                    break;
            }
        }

        return openedBy;
    }

    private static Effect Classify(ScriptStatement statement)
    {
        // Most statements are settled by their first word without reading more.
        var first = StatementWords.LeadingWords(statement.Text, 1);
        if (first.Count == 0 || first[0] is not ("BEGIN" or "START" or "COMMIT" or "END" or "ROLLBACK" or "ABORT" or "PREPARE"))
        {
            return Effect.None;
        }

        var words = StatementWords.LeadingWords(statement.Text, WordsToRead);
        return words[0] switch
        {
            "BEGIN" => Effect.Opens,
            "START" when TransactionRules.WordAt(words, 1) == "TRANSACTION" => Effect.Opens,
            // PREPARE TRANSACTION hands the block over to a prepared transaction: the session's block is over.
            "PREPARE" when TransactionRules.WordAt(words, 1) == "TRANSACTION" => Effect.Ends,
            // COMMIT PREPARED and ROLLBACK PREPARED end another, already prepared transaction, not the session's.
            "COMMIT" or "ROLLBACK" when TransactionRules.WordAt(words, 1) == "PREPARED" => Effect.None,
            "ROLLBACK" when TransactionRules.IsRollbackToSavepoint(words) => Effect.None,
            "COMMIT" or "END" or "ROLLBACK" or "ABORT" => Chains(words) ? Effect.EndsAndOpens : Effect.Ends,
            _ => Effect.None,
        };
    }

    /// <summary>True for <c>COMMIT [WORK | TRANSACTION] AND CHAIN</c> and the same after END, ROLLBACK or ABORT.</summary>
    private static bool Chains(IReadOnlyList<string> words)
    {
        var and = TransactionRules.WordAt(words, 1) is "WORK" or "TRANSACTION" ? 2 : 1;
        return TransactionRules.WordAt(words, and) == "AND" && TransactionRules.WordAt(words, and + 1) == "CHAIN";
    }
}
