using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// The deploy lock: a session advisory lock held on a dedicated, unpooled connection, so that resetting the
/// migration session between scripts (DISCARD ALL releases advisory locks) cannot drop it. Ending that session
/// (a connection reaper, a DBA) releases the lock: <see cref="Holder"/> lets every migration prove it inside its
/// own transaction (see <see cref="PostgresHistory.LockProof"/>).
/// </summary>
internal sealed class PostgresDeployLock : IDeployLock
{
    /// <summary>One key for every MigrationTasks deploy ("MIGRATE1" in ASCII); advisory locks are per database.</summary>
    private const long LockKey = 0x4D49475241544531;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly NpgsqlConnection _connection;

    private PostgresDeployLock(NpgsqlConnection connection, LockHolder holder)
    {
        _connection = connection;
        Holder = holder;
    }

    /// <summary>The session holding the lock, as pg_stat_activity knows it.</summary>
    public LockHolder Holder { get; }

    public bool IsReleased { get; private set; }

    public static async Task<PostgresDeployLock> AcquireAsync(NpgsqlConnectionStringBuilder target, string displayName, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(target.ConnectionString)
        {
            ApplicationName = $"{PostgresConnections.ApplicationName} deploy lock ({Environment.MachineName})",
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // The lock session sits idle for the whole deploy: a server-wide idle_session_timeout (PostgreSQL 14+)
            // must not end it, and with it the lock, while migrations run.
            await using (var keep = new NpgsqlCommand(
                "SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('server_version_num')::int >= 140000", connection))
            {
                await keep.ExecuteNonQueryAsync(cancellationToken);
            }

            var deadline = DateTime.UtcNow + maxWait;
            while (true)
            {
                await using (var attempt = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
                {
                    if ((bool)(await attempt.ExecuteScalarAsync(cancellationToken))!)
                    {
                        return new PostgresDeployLock(connection, await HolderAsync(connection, cancellationToken));
                    }
                }

                if (DateTime.UtcNow >= deadline)
                {
                    throw new DiagnosticException(Diagnostic.Error(
                        DiagnosticCodes.LockTimeout,
                        $"another deploy holds the MigrationTasks lock on {displayName} and did not release it within {maxWait.TotalSeconds:0} s: " +
                        $"{await DescribeHolderAsync(connection, cancellationToken)}. Wait for it to finish, or end that session if it is stuck."));
                }

                await Task.Delay(PollInterval, cancellationToken);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the session releases the lock even if the unlock call fails.
        IsReleased = true;
        await _connection.DisposeAsync();
    }

    public async Task ProveHeldAsync(CancellationToken cancellationToken)
    {
        bool held;
        try
        {
            await using var command = new NpgsqlCommand($"SELECT EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE {IsHeldLock("l")} AND l.pid = pg_catalog.pg_backend_pid())", _connection);
            held = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw new DeployLockLostException(
                $"the session holding the deploy lock (pid {Holder.Pid}) is gone ({e.Message}): the server or a connection reaper ended it, and the lock with it. " +
                "Another deploy may be running; nothing more runs here.",
                e);
        }

        if (!held)
        {
            throw new DeployLockLostException($"the session that took the deploy lock (pid {Holder.Pid}) no longer holds it; another deploy may be running. Nothing more runs here.");
        }
    }

    private static async Task<LockHolder> HolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pid, backend_start FROM pg_catalog.pg_stat_activity WHERE pid = pg_catalog.pg_backend_pid()", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new LockHolder(reader.GetInt32(0), reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>SQL that is true for a row <paramref name="locks"/> of pg_locks that is this lock, granted, on this database.</summary>
    // A bigint advisory key is stored as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
    internal static string IsHeldLock(string locks) => $"""
        {locks}.locktype = 'advisory' AND {locks}.granted AND {locks}.objsubid = 1
          AND {locks}.classid = {(uint)(LockKey >> 32)}::oid AND {locks}.objid = {(uint)(LockKey & 0xFFFFFFFF)}::oid
          AND {locks}.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """;

    private static async Task<string> DescribeHolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"""
            SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), a.backend_start, coalesce(a.usename, '')
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE {IsHeldLock("l")}
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return "its holder just released it";
        }

        return $"held by pid {reader.GetInt32(0)} (application '{reader.GetString(1)}', user '{reader.GetString(4)}', client {reader.GetString(2)}, " +
               $"connected since {reader.GetFieldValue<DateTimeOffset>(3):u})";
    }
}
