using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// A copy of a SQL Server database beside it, for rehearsing migrations that cannot run in a transaction: a
/// COPY_ONLY backup (the production backup chain is left alone) into the server's default backup folder, restored
/// under the name <c>&lt;db&gt;_mtcopy_&lt;8 hex&gt;</c> (<see cref="SqlServerCopyNames"/>) with every file moved into
/// the server's default data and log folders (<see cref="CopyFileMoves"/>). The backup file is deleted as soon as the
/// restore is done (the copy no longer needs it, and a staging database's worth of disk should not wait for the
/// rehearsal); disposing the copy drops it.
/// Expected refusals (a cloud edition, a missing permission, no way to delete the backup file) come back as a
/// reason (<see cref="SqlServerBackupErrors"/> words the server's errors), never as an exception.
/// </summary>
internal static class SqlServerDatabaseCopy
{
    /// <summary>
    /// Makes the copy through <paramref name="connection"/> (a session of the source database), or returns the reason
    /// it cannot be made. Drops and deletes whatever it made before a refusal.
    /// </summary>
    public static async Task<(ITargetDatabase? Copy, string? Reason)> TryCreateAsync(
        SqlConnection connection, SqlConnectionStringBuilder settings, SqlServerIdentity identity, CancellationToken cancellationToken)
    {
        if (WhyNoCopy(identity.EngineEdition) is { } cloud)
        {
            return (null, cloud);
        }

        var facts = await CopyServerFacts.ReadAsync(connection, cancellationToken);
        if (facts.Folders() is not (var backupFolder, var dataFolder, var logFolder))
        {
            return (null, "the server reports no default data folder (SERVERPROPERTY('InstanceDefaultDataPath')) to put the copy's files in");
        }

        // The file is on the server's disk: the runner deletes it when it sees the same folder, else the server does
        // (xp_delete_file, sysadmin or a grant). With neither, every copy would leave a staging-sized file behind.
        if (!facts.ServerMayDelete && !Directory.Exists(backupFolder))
        {
            return (null,
                $"a copy is restored from a backup file in the server's folder {backupFolder}, and it could not be deleted afterwards: " +
                "this machine does not see that folder and the login may not run master.sys.xp_delete_file (sysadmin, or GRANT EXECUTE on it)");
        }

        var target = CopyTarget.For(identity.Database, SqlServerCopyNames.NewSuffix(), backupFolder, dataFolder, logFolder);
        try
        {
            await SqlServerBackups.ExecuteAsync(connection, SqlServerBackups.BackupSql, target.Source, target.BackupFile, cancellationToken);
        }
        catch (Exception e) when (e is SqlException or OperationCanceledException)
        {
            // A backup that failed or was cancelled part-way may have written part of the file.
            var partial = await SqlServerBackupFileCleanup.DeleteQuietlyAsync(connection, target.BackupFile, facts.ServerMayDelete);
            if (e is SqlException failure)
            {
                var reason = SqlServerBackupErrors.Explain(BackupStatement.Backup, failure, target.Scene).Reason;
                return (null, partial is null ? reason : $"{reason}; a partial backup file may be left at {target.BackupFile} ({partial})");
            }

            throw;
        }

        var drop = DropAction(settings, target);
        string? refusal, leftOver;
        try
        {
            refusal = await RestoreAsync(connection, target, drop, cancellationToken);
        }
        finally
        {
            leftOver = await SqlServerBackupFileCleanup.DeleteAsync(connection, target.BackupFile, facts.ServerMayDelete);
        }

        var fileNote = leftOver is null ? null : $"its backup file {target.BackupFile} was left on the server ({leftOver}): delete it by hand";
        if (refusal is not null)
        {
            return (null, fileNote is null ? refusal : $"{refusal}; {fileNote}");
        }

        try
        {
            var copy = await SqlServerDatabase.OpenAsync(SqlServerConnections.ForDatabase(settings, target.Name), cancellationToken);
            // A copy that works is no refusal, so a file left behind is said where the rehearsal names the copy.
            return (new ScratchDatabase(copy, drop, "copy", fileNote), null);
        }
        catch
        {
            await drop();
            throw;
        }
    }

    /// <summary>Why an edition cannot be copied this way, or null when it can.</summary>
    internal static string? WhyNoCopy(int engineEdition) => engineEdition switch
    {
        // CREATE DATABASE … AS COPY OF returns at once and copies in the background (minutes to hours, polled in
        // sys.dm_database_copies), at the source's service objective and price; a copy abandoned by a killed build
        // keeps costing. Not worth it for a rehearsal.
        5 => "Azure SQL Database cannot BACKUP DATABASE to a file, and MigrationTasks does not use CREATE DATABASE … AS COPY OF for a rehearsal: " +
             "it copies in the background for minutes or hours and the copy is billed like the source database",
        _ when SqlServerBackups.WhyNoDiskBackup(engineEdition) is { } edition => $"{edition} cannot BACKUP DATABASE to a file, which a copy is restored from",
        _ => null,
    };

    /// <summary>The RESTORE of the copy: @database is the copy's name, @path the backup file, every file moved by <paramref name="moveClause"/>.</summary>
    internal static string RestoreSql(string moveClause) => $"RESTORE DATABASE @database FROM DISK = @path WITH {moveClause}, CHECKSUM, RECOVERY";

    /// <summary>The two statements that drop a copy; the first may fail (a database left RESTORING takes no ALTER) and the second still runs.</summary>
    internal static string[] DropSql(string name) =>
    [
        $"ALTER DATABASE {SqlServerConnections.QuoteName(name)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
        $"IF DB_ID({SqlServerConnections.Literal(name)}) IS NOT NULL DROP DATABASE {SqlServerConnections.QuoteName(name)}",
    ];

    /// <summary>FILELISTONLY, then RESTORE under the copy's name: null when the copy exists, else the reason (a half-restored copy dropped).</summary>
    private static async Task<string?> RestoreAsync(SqlConnection connection, CopyTarget target, Func<Task> drop, CancellationToken cancellationToken)
    {
        IReadOnlyList<BackupFileListRow> files;
        try
        {
            files = await BackupFileListRow.ReadAsync(connection, target.BackupFile, cancellationToken);
        }
        catch (SqlException e)
        {
            return SqlServerBackupErrors.Explain(BackupStatement.ReadFileList, e, target.Scene).Reason;
        }

        try
        {
            var moves = CopyFileMoves.Clause(CopyFileMoves.Targets(files, target.DataFolder, target.LogFolder, target.Stem));
            await SqlServerBackups.ExecuteAsync(connection, RestoreSql(moves), target.Name, target.BackupFile, cancellationToken);
            return null;
        }
        catch (SqlException e)
        {
            // A RESTORE that failed part-way can leave the new database behind, RESTORING.
            await drop();
            return SqlServerBackupErrors.Explain(BackupStatement.Restore, e, target.Scene).Reason;
        }
        catch (OperationCanceledException)
        {
            await drop();
            throw;
        }
    }

    /// <summary>Drops the copy from a session of its own in the source database (the copy's sessions are ended first).</summary>
    private static Func<Task> DropAction(SqlConnectionStringBuilder settings, CopyTarget target) => async () =>
    {
        try
        {
            await using var connection = await SqlServerDatabase.OpenConnectionAsync(SqlServerConnections.ForDatabase(settings, target.Source, "copy"), CancellationToken.None);
            var statements = DropSql(target.Name);
            try
            {
                await SqlServerBackups.ExecuteAsync(connection, statements[0], null, null, CancellationToken.None);
            }
            catch (SqlException)
            {
                // A database that is RESTORING or already gone takes no ALTER; the DROP below still does its part.
            }

            await SqlServerBackups.ExecuteAsync(connection, statements[1], null, null, CancellationToken.None);
        }
        catch (Exception e) when (e is SqlException or DiagnosticException)
        {
            // A copy that cannot be dropped is left with its recognisable name (…_mtcopy_…) rather than failing the build.
        }
    };
}
