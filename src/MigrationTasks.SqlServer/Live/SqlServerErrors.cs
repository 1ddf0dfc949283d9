using MigrationTasks.Engines;
using MigrationTasks.Scripts;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>Server errors mapped back to the batch, and the line in the file, that caused them.</summary>
internal static class SqlServerErrors
{
    /// <summary>"Lock request time out period exceeded": a statement waited longer than SET LOCK_TIMEOUT allows.</summary>
    public const int LockTimeout = 1222;

    public static ScriptFailedException Failure(SqlException e, ScriptStatement batch, int number)
    {
        // A SqlException carries every message of the batch; the first real error (severity above 10) is the cause.
        var error = e.Errors.Cast<SqlError>().FirstOrDefault(x => x.Class > 10) ?? e.Errors[0];
        var inModule = !string.IsNullOrEmpty(error.Procedure);
        return new ScriptFailedException(
            batch,
            number,
            error.Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
            WithAdvice(error),
            inModule ? null : OffsetOfLine(batch, error.LineNumber),
            inModule ? $"in {error.Procedure}, line {error.LineNumber}" : null,
            null,
            e,
            isLockTimeout: error.Number == LockTimeout);
    }

    /// <summary>
    /// DacFx's data-loss guard (a RAISERROR its deploy script holds when BlockOnPossibleDataLoss is on) says what was
    /// guarded but not how to proceed.
    /// </summary>
    private static string WithAdvice(SqlError error) =>
        error.Number == 50000 && error.Message.Contains("Rows were detected", StringComparison.OrdinalIgnoreCase)
            ? error.Message + " (DacFx's data-loss guard: the deploy would drop or narrow data of a table that has rows. Keep the object in Schema/, " +
              "or set MigrationAllowDataLoss=true to drop the data knowingly.)"
            : error.Message;

    public static ScriptFailedException TransactionEnded(ScriptStatement batch, int number, string problem, Exception? inner) =>
        new(batch, number, "@@TRANCOUNT", problem, null, null, null, inner);

    public static string Describe(ScriptFailedException failure) =>
        $"batch {failure.StatementNumber} (line {failure.Statement.Line}): {failure.ErrorCode}: {failure.ServerMessage}";

    /// <summary>
    /// The file offset of line <paramref name="lineNumber"/> (1-based, as SqlError counts it from the batch's first
    /// line) of the batch, or null when the batch has no such line.
    /// </summary>
    public static int? OffsetOfLine(ScriptStatement batch, int lineNumber)
    {
        if (lineNumber < 1)
        {
            return null;
        }

        var offset = 0;
        for (var line = 1; line < lineNumber; line++)
        {
            var next = batch.Text.IndexOf('\n', offset);
            if (next < 0)
            {
                return null;
            }

            offset = next + 1;
        }

        return batch.Offset + offset;
    }
}
