using System.Data;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The deploy lock: <c>sp_getapplock</c> owned by the session, on a dedicated connection that does nothing else, so
/// that neither a migration's transaction nor the fresh session each migration gets can release it.
/// </summary>
/// <remarks>
/// The lock lives in <c>master</c> with the database's name in its resource, not in the database itself: a restore
/// must put the database in SINGLE_USER WITH ROLLBACK IMMEDIATE, which would end a lock session connected to it and
/// let a second deploy in half-way through the restore. Azure SQL Database has no usable master (each database is
/// its own), and no restore either, so there the lock is taken in the database, as <c>MigrationTasks</c>.
/// </remarks>
internal sealed class SqlServerDeployLock : IDeployLock
{
    public const string ResourcePrefix = "MigrationTasks";

    private readonly SqlConnection _connection;
    private readonly string _resource;

    private SqlServerDeployLock(SqlConnection connection, string resource)
    {
        _connection = connection;
        _resource = resource;
    }

    /// <summary>The lock's resource name: per database when the lock lives in master.</summary>
    public static string ResourceFor(string database, bool inMaster) => inMaster ? $"{ResourcePrefix}:{database}" : ResourcePrefix;

    /// <summary>What a return code of sp_getapplock means: null when the lock was granted.</summary>
    public static LockRefusal? Interpret(int returnCode) => returnCode switch
    {
        >= 0 => null, // 0: granted at once; 1: granted after waiting for another holder to release it.
        -1 => LockRefusal.TimedOut,
        -2 => LockRefusal.Cancelled,
        -3 => LockRefusal.DeadlockVictim,
        _ => LockRefusal.CallError, // -999: parameter validation or another call error.
    };

    public static async Task<SqlServerDeployLock> AcquireAsync(
        SqlConnectionStringBuilder target, string database, bool inMaster, string displayName, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var settings = SqlServerConnections.ForDatabase(target, inMaster ? "master" : database, $"deploy lock ({Environment.MachineName})");
        // MIG1004 when it cannot be opened (e.g. a contained-database user may not log in to master).
        var connection = await SqlServerDatabase.OpenConnectionAsync(settings, cancellationToken);
        try
        {
            var resource = ResourceFor(database, inMaster);
            var timeoutMs = (int)Math.Clamp(maxWait.TotalMilliseconds, 0, int.MaxValue);
            await using var command = new SqlCommand("sp_getapplock", connection) { CommandType = CommandType.StoredProcedure, CommandTimeout = 0 };
            command.Parameters.Add(new SqlParameter("@Resource", SqlDbType.NVarChar, 255) { Value = resource });
            command.Parameters.Add(new SqlParameter("@LockMode", SqlDbType.VarChar, 32) { Value = "Exclusive" });
            command.Parameters.Add(new SqlParameter("@LockOwner", SqlDbType.VarChar, 32) { Value = "Session" });
            command.Parameters.Add(new SqlParameter("@LockTimeout", SqlDbType.Int) { Value = timeoutMs });
            command.Parameters.Add(new SqlParameter("@DbPrincipal", SqlDbType.NVarChar, 128) { Value = "public" });
            var result = command.Parameters.Add(new SqlParameter("@Result", SqlDbType.Int) { Direction = ParameterDirection.ReturnValue });
            await command.ExecuteNonQueryAsync(cancellationToken);
            var code = (int)result.Value;
            switch (Interpret(code))
            {
                case null:
                    return new SqlServerDeployLock(connection, resource);
                case LockRefusal.TimedOut:
                    throw new DiagnosticException(Diagnostic.Error(
                        DiagnosticCodes.LockTimeout,
                        $"another deploy holds the MigrationTasks lock on {displayName} and did not release it within {maxWait.TotalSeconds:0} s: " +
                        $"{await DescribeHolderAsync(connection, resource, cancellationToken)}. Wait for it to finish, or end that session if it is stuck."));
                case var refusal:
                    throw new DiagnosticException(Diagnostic.Error(
                        DiagnosticCodes.DeployLockRequestRefused,
                        $"sp_getapplock refused the MigrationTasks deploy lock on {displayName} ({Describe(refusal!.Value)}, return code {code}); nothing was touched. " +
                        $"Check that the login may run sp_getapplock in {(inMaster ? "master" : "the database")}, then deploy again."));
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Released (disposed): the database stops proving it.</summary>
    public bool IsReleased { get; private set; }

    public async ValueTask DisposeAsync()
    {
        IsReleased = true;
        try
        {
            await using var release = new SqlCommand("sp_releaseapplock", _connection) { CommandType = CommandType.StoredProcedure };
            release.Parameters.Add(new SqlParameter("@Resource", SqlDbType.NVarChar, 255) { Value = _resource });
            release.Parameters.Add(new SqlParameter("@LockOwner", SqlDbType.VarChar, 32) { Value = "Session" });
            release.Parameters.Add(new SqlParameter("@DbPrincipal", SqlDbType.NVarChar, 128) { Value = "public" });
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is SqlException or InvalidOperationException)
        {
            // Ending the session below releases a session-owned lock anyway.
        }

        await _connection.DisposeAsync();
    }

    public async Task ProveHeldAsync(CancellationToken cancellationToken)
    {
        string mode;
        try
        {
            await using var command = new SqlCommand("SELECT APPLOCK_MODE(N'public', @resource, N'Session')", _connection);
            command.Parameters.Add(new SqlParameter("@resource", SqlDbType.NVarChar, 255) { Value = _resource });
            mode = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (Exception e) when (e is SqlException or InvalidOperationException)
        {
            throw new DeployLockLostException(
                $"the session holding the deploy lock is gone ({e.Message}): the server or a connection reaper ended it, and the lock with it. " +
                "Another deploy may be running; nothing more runs here.",
                e);
        }

        if (mode != "Exclusive")
        {
            throw new DeployLockLostException($"the session that took the deploy lock no longer holds it (APPLOCK_MODE says {mode}); another deploy may be running. Nothing more runs here.");
        }
    }

    private static string Describe(LockRefusal refusal) => refusal switch
    {
        LockRefusal.Cancelled => "the request was cancelled",
        LockRefusal.DeadlockVictim => "the request was chosen as a deadlock victim",
        _ => "the call failed: a parameter was refused or the login lacks a permission",
    };

    /// <summary>The session holding the lock (see DescribeHolderAsync).</summary>
    internal const string HolderSql = """
        SELECT TOP (1) s.session_id, ISNULL(s.program_name, N''), ISNULL(s.host_name, N''), ISNULL(s.login_name, N''), s.login_time
        FROM sys.dm_tran_locks AS l
        JOIN sys.dm_exec_sessions AS s ON s.session_id = l.request_session_id
        WHERE l.resource_type = N'APPLICATION' AND l.request_status = N'GRANT' AND l.request_mode = N'X'
          AND l.resource_database_id = DB_ID()
          AND CHARINDEX(N':[' + LEFT(@resource, 32), l.resource_description) > 0
          AND l.request_session_id <> @@SPID
        ORDER BY s.login_time
        """;

    /// <summary>
    /// The session holding the lock, from sys.dm_tran_locks and sys.dm_exec_sessions. These need VIEW SERVER STATE
    /// (VIEW DATABASE STATE on Azure SQL Database); without it the message says so instead of naming the holder.
    /// An application lock's resource_description reads <c>&lt;db id&gt;:[&lt;first 32 characters&gt;]:(&lt;hash&gt;)</c>.
    /// </summary>
    private static async Task<string> DescribeHolderAsync(SqlConnection connection, string resource, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new SqlCommand(HolderSql, connection);
            command.Parameters.Add(new SqlParameter("@resource", SqlDbType.NVarChar, 255) { Value = resource });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return "its holder just released it, or it cannot be seen";
            }

            return $"held by session {reader.GetInt16(0)} (application '{reader.GetString(1)}', host '{reader.GetString(2)}', login '{reader.GetString(3)}', " +
                   $"connected since {reader.GetDateTime(4):u})";
        }
        catch (SqlException e) when (e.Number is 297 or 300 or 229)
        {
            return "the holder cannot be named because this login lacks VIEW SERVER STATE";
        }
    }
}

/// <summary>Why sp_getapplock did not grant the lock.</summary>
internal enum LockRefusal
{
    TimedOut,
    Cancelled,
    DeadlockVictim,
    CallError,
}
