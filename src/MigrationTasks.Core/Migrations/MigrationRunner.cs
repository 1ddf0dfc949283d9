using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;

namespace MigrationTasks.Migrations;

/// <summary>
/// Brings one database up to date: lock, read the history (after the lock, so two runs never plan from the same
/// state), plan, apply each pending migration in order. The same sequence serves the shadow, dev and production.
/// </summary>
public sealed class MigrationRunner(Reporter reporter)
{
    /// <summary>How long a second deploy waits for the first one's lock before it gives up (MIG7002).</summary>
    public static readonly TimeSpan DefaultLockWait = TimeSpan.FromSeconds(60);

    /// <summary>Applies what is pending and returns how many migrations ran.</summary>
    /// <param name="thenGenerated">
    /// A script generated from the database as the migrations left it (SQL Server: DacFx's deploy script of the
    /// dacpac), generated and applied under the same lock, so that no other deploy changes the state it was planned on.
    /// </param>
    public async Task<int> DeployAsync(
        ITargetDatabase database,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations,
        ApplyContext context,
        TimeSpan lockWait,
        CancellationToken cancellationToken,
        ScriptGenerator? thenGenerated = null)
    {
        await using var deployLock = await database.AcquireDeployLockAsync(lockWait, cancellationToken);
        if (thenGenerated is null)
        {
            return await ApplyPendingAsync(database, migrations, context, cancellationToken);
        }

        // A state-based project without migrations has nothing to apply before its generated script.
        var applied = migrations.Count == 0 ? 0 : await ApplyPendingAsync(database, migrations, context, cancellationToken);
        var generated = await thenGenerated(database, cancellationToken);
        return applied + await ApplyPendingAsync(database, [.. migrations, generated], context, cancellationToken);
    }

    private async Task<int> ApplyPendingAsync(
        ITargetDatabase database,
        IReadOnlyList<(MigrationFile File, PreparedScript Script)> migrations,
        ApplyContext context,
        CancellationToken cancellationToken)
    {
        var history = await database.ReadHistoryAsync(cancellationToken);
        var plan = MigrationPlanner.Plan(migrations, history);
        reporter.Report(plan.Warnings);
        if (plan.Pending.Count == 0)
        {
            reporter.Info($"{database.DisplayName}: up to date, no migration to apply.");
            return 0;
        }

        foreach (var step in plan.Pending)
        {
            reporter.Info($"{database.DisplayName}: applying {Describe(step)}");
            try
            {
                await database.ApplyAsync(step, context, cancellationToken);
            }
            catch (ScriptFailedException failure)
            {
                throw new DiagnosticException(FailureAt(step, failure, database.DisplayName));
            }
        }

        reporter.Info($"{database.DisplayName}: applied {plan.Pending.Count} migration(s).");
        return plan.Pending.Count;
    }

    private static string Describe(MigrationStep step)
    {
        var count = step.Script.Statements.Count;
        var mode = step.Script.InTransaction
            ? "in one transaction"
            : $"outside a transaction, statement by statement ({step.Script.OutsideTransactionReason})";
        var from = step.IsResume ? $", resuming at statement {step.FirstStatement + 1}" : "";
        return $"{step.File.ScriptName} ({count} statement(s), {mode}{from})";
    }

    /// <summary>Where in its file a failure is: the server's position when it gave one, else the statement's start.</summary>
    public static (int Line, int Column) Locate(PreparedScript script, ScriptFailedException failure) =>
        new TextPosition(script.Text).At(failure.FileOffset ?? failure.Statement.Offset);

    /// <summary>The error for a migration that failed on a database, at its file and line, with what state it left.</summary>
    public static Diagnostic FailureAt(MigrationStep step, ScriptFailedException failure, string databaseName)
    {
        var (line, column) = Locate(step.Script, failure);
        var state = step.Script.InTransaction
            ? "Its transaction was rolled back: the database is as it was before this migration."
            : $"It ran outside a transaction: statements before {failure.StatementNumber} are applied and recorded in the history; " +
              $"fix statement {failure.StatementNumber} and build again to resume there.";
        return Diagnostic.Error(
            DiagnosticCodes.MigrationFailed,
            $"{step.File.ScriptName} failed on {databaseName} at statement {failure.StatementNumber}: {ServerWords(failure)} {state}",
            step.File.Path,
            line,
            column);
    }

    /// <summary>The server's message with its code, detail and hint, as one sentence group.</summary>
    public static string ServerWords(ScriptFailedException failure)
    {
        var words = $"{failure.ErrorCode}: {failure.ServerMessage}.";
        if (failure.Detail is { Length: > 0 } detail)
        {
            words += $" Detail: {detail}";
        }

        if (failure.Hint is { Length: > 0 } hint)
        {
            words += $" Hint: {hint}";
        }

        return words;
    }
}
