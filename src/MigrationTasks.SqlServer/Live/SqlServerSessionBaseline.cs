using System.Globalization;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// Who a migration session runs as, and how, when the runner began its transaction: what a migration's batches or a
/// Verify/ query may change for the rest of the session (EXECUTE AS, SET options, the isolation level, SET ROWCOUNT)
/// is put back after them, before the runner writes its own rows or the next migration runs in the same transaction.
/// Between transactions a new session does that; a transaction cannot move to a new session, and T-SQL has no
/// RESET ALL. Temp tables a migration leaves stay until the transaction's session ends.
/// </summary>
/// <param name="User">USER_NAME() and SUSER_SNAME() at the start: a REVERT loop stops when both are back.</param>
/// <param name="LockTimeout">The runner's statement lock timeout (SET LOCK_TIMEOUT), null for none (-1, wait).</param>
internal sealed record SqlServerSessionBaseline(string User, string Login, string Language, TimeSpan? LockTimeout)
{
    /// <summary>
    /// The start of a migration's or a release's transaction: XACT_ABORT ON, so that any run-time error rolls the
    /// whole transaction back instead of ending only the statement and letting the next batches run on; the lock
    /// timeout; and who the session is.
    /// </summary>
    public static string BeginSql(TimeSpan? lockTimeout) =>
        $"SET XACT_ABORT ON;\n{LockTimeoutSql(lockTimeout)};\nSELECT {Who};";

    /// <summary>Who the session is; never NULL (a contained database user may have no server login name).</summary>
    private const string Who = "ISNULL(USER_NAME(), N''), ISNULL(SUSER_SNAME(), N''), @@LANGUAGE";

    /// <summary>SET LOCK_TIMEOUT in milliseconds (at least 1: 0 would not wait at all); -1 waits as long as it takes.</summary>
    public static string LockTimeoutSql(TimeSpan? lockTimeout) =>
        "SET LOCK_TIMEOUT " + (lockTimeout is { } timeout
            ? ((long)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue)).ToString(CultureInfo.InvariantCulture)
            : "-1");

    /// <summary>
    /// Puts the session back; its last result is 1 when it runs as at the start again. REVERT must run in the scope
    /// of the EXECUTE AS it ends: a batch of its own, not sp_executesql, so the names are literals. A context taken
    /// WITH NO REVERT or WITH COOKIE cannot be reverted (the loop gives up, or REVERT fails).
    /// </summary>
    public string ResetSql => $"""
        DECLARE @reverts int = 0;
        WHILE ({IsStarter}) = 0 AND @reverts < 8
        BEGIN
            REVERT;
            SET @reverts += 1;
        END;
        SET ANSI_NULLS, ANSI_PADDING, ANSI_WARNINGS, ANSI_NULL_DFLT_ON, CONCAT_NULL_YIELDS_NULL, QUOTED_IDENTIFIER, XACT_ABORT ON;
        SET NUMERIC_ROUNDABORT, IMPLICIT_TRANSACTIONS OFF;
        SET ROWCOUNT 0;
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        {LockTimeoutSql(LockTimeout)};
        SET LANGUAGE {SqlServerConnections.Literal(Language)};
        SELECT {IsStarter};
        """;

    private string IsStarter =>
        $"CASE WHEN ISNULL(USER_NAME(), N'') = {SqlServerConnections.Literal(User)} AND ISNULL(SUSER_SNAME(), N'') = {SqlServerConnections.Literal(Login)} THEN 1 ELSE 0 END";

    /// <summary>Runs <see cref="BeginSql"/> on a new session, before its transaction begins.</summary>
    public static async Task<SqlServerSessionBaseline> BeginAsync(SqlConnection connection, TimeSpan? lockTimeout, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(BeginSql(lockTimeout), connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new SqlServerSessionBaseline(reader.GetString(0), reader.GetString(1), reader.GetString(2), lockTimeout);
    }

    /// <summary>
    /// Runs <see cref="ResetSql"/>; false when the session still runs as someone else (see there), or REVERT failed
    /// on a context that refuses it, which with XACT_ABORT ON has rolled the transaction back already.
    /// </summary>
    public async Task<bool> RestoreAsync(SqlConnection connection, SqlTransaction transaction, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new SqlCommand(ResetSql, connection, transaction);
            return (int)(await command.ExecuteScalarAsync(cancellationToken))! == 1;
        }
        catch (SqlException) when (connection.State == System.Data.ConnectionState.Open)
        {
            return false;
        }
    }

    /// <summary>
    /// After a migration's batches, before the runner records it: puts the session back, or throws a
    /// <see cref="ScriptFailedException"/> at the last batch when it still runs as another user (the caller rolls back).
    /// </summary>
    public async Task RestoreAfterAsync(SqlConnection connection, SqlTransaction transaction, IReadOnlyList<ScriptStatement> batches, CancellationToken cancellationToken)
    {
        if (!await RestoreAsync(connection, transaction, cancellationToken) && batches.Count > 0)
        {
            throw new ScriptFailedException(batches[^1], batches.Count, "EXECUTE AS", StillImpersonating, null, null, null);
        }
    }

    /// <summary>Why a session that could not be put back cannot go on: the runner's rows would be written as another user.</summary>
    internal const string StillImpersonating =
        "the script left the session running as another user (EXECUTE AS without REVERT, WITH NO REVERT or WITH COOKIE), and MigrationTasks cannot " +
        "turn it back to record what ran; the transaction was rolled back. End every EXECUTE AS with REVERT in the same script";
}
