using System.Data;
using System.Globalization;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// A copy of a SQL Server database beside it, for rehearsing migrations that cannot run in a transaction: a
/// COPY_ONLY backup (the production backup chain is left alone) into the server's default backup folder, restored
/// under the name <c>&lt;db&gt;_mtcopy_&lt;8 hex&gt;</c> with every file moved into the server's default data and log
/// folders. The backup file is deleted as soon as the restore is done (the copy no longer needs it, and a staging
/// database's worth of disk should not wait for the rehearsal); disposing the copy drops it.
/// Expected refusals (a cloud edition, a missing permission, no way to delete the backup file) come back as a
/// reason, never as an exception.
/// </summary>
internal static class SqlServerDatabaseCopy
{
    public const string Marker = "_mtcopy_";
    private const int MaxNameLength = 128;
    private const int FileStemPrefixLength = 40;

    private const string ServerFactsSql = """
        SELECT CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(4000)),
               CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(4000)),
               CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(4000)),
               (SELECT TOP (1) physical_name FROM sys.database_files WHERE type = 0 ORDER BY file_id),
               CAST(CASE WHEN IS_SRVROLEMEMBER('sysadmin') = 1 OR HAS_PERMS_BY_NAME('master.sys.xp_delete_file', 'OBJECT', 'EXECUTE') = 1 THEN 1 ELSE 0 END AS bit)
        """;

    // xp_delete_file is undocumented (maintenance plans use it): 0 = a backup file, which it checks before deleting.
    private const string DeleteBackupFileSql = "EXEC master.sys.xp_delete_file 0, @path";

    private const string FileExistsSql = "EXEC master.sys.xp_fileexist @path";

    private const string FileListSql = "RESTORE FILELISTONLY FROM DISK = @path";

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

        // InstanceDefaultBackupPath is new in SQL Server 2019 and InstanceDefaultDataPath in 2012: before them the
        // folder of the source's own data file. A deploy's backups go to --backup-dir (SqlServerBackups), but a copy
        // is asked for without one, and the default data folder is one the service account surely writes.
        var facts = await ReadServerFactsAsync(connection, cancellationToken);
        var dataFolder = facts.DataPath ?? FolderOf(facts.SourceDataFile);
        var backupFolder = facts.BackupPath ?? dataFolder;
        if (dataFolder is null || backupFolder is null)
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

        var suffix = Guid.NewGuid().ToString("N")[..8];
        var stem = FileStem(identity.Database, suffix);
        var target = new CopyTarget(
            identity.Database,
            CopyName(identity.Database, suffix),
            stem,
            JoinServerPath(backupFolder, stem + SqlServerBackups.DumpExtension),
            backupFolder,
            dataFolder,
            facts.LogPath ?? dataFolder);
        try
        {
            await SqlServerBackups.ExecuteAsync(connection, SqlServerBackups.BackupSql, target.Source, target.BackupFile, cancellationToken);
        }
        catch (Exception e) when (e is SqlException or OperationCanceledException)
        {
            // A backup that failed or was cancelled part-way may have written part of the file.
            var partial = await DeleteBackupFileQuietlyAsync(connection, target.BackupFile, facts.ServerMayDelete);
            if (e is SqlException failure)
            {
                var reason = Reason(CopyStep.Backup, Errors(failure), target);
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
            leftOver = await DeleteBackupFileAsync(connection, target.BackupFile, facts.ServerMayDelete);
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

    /// <summary>FILELISTONLY, then RESTORE under the copy's name: null when the copy exists, else the reason (a half-restored copy dropped).</summary>
    private static async Task<string?> RestoreAsync(SqlConnection connection, CopyTarget target, Func<Task> drop, CancellationToken cancellationToken)
    {
        IReadOnlyList<BackupFile> files;
        try
        {
            files = await ReadFileListAsync(connection, target.BackupFile, cancellationToken);
        }
        catch (SqlException e)
        {
            return Reason(CopyStep.ReadFileList, Errors(e), target);
        }

        try
        {
            var moves = MoveClause(MoveTargets(files, target.DataFolder, target.LogFolder, target.Stem));
            await SqlServerBackups.ExecuteAsync(connection, $"RESTORE DATABASE @database FROM DISK = @path WITH {moves}, CHECKSUM, RECOVERY", target.Name, target.BackupFile, cancellationToken);
            return null;
        }
        catch (SqlException e)
        {
            // A RESTORE that failed part-way can leave the new database behind, RESTORING.
            await drop();
            return Reason(CopyStep.Restore, Errors(e), target);
        }
        catch (OperationCanceledException)
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

    /// <summary><c>&lt;db&gt;_mtcopy_&lt;suffix&gt;</c>, the source's name cut short (never inside a surrogate pair) to fit 128 characters.</summary>
    internal static string CopyName(string database, string suffix)
    {
        var tail = Marker + suffix;
        var room = MaxNameLength - tail.Length;
        return Shorten(database, room) + tail;
    }

    private static string Shorten(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }

        return text[..(char.IsHighSurrogate(text[length - 1]) ? length - 1 : length)];
    }

    /// <summary>
    /// The stem of the copy's file names: the source's name in ASCII letters, digits, '-' and '_' only (a database
    /// name may hold characters no file system takes, such as '/', ':' or '*'), cut short so paths stay well under
    /// the 260 characters sys.master_files holds.
    /// </summary>
    internal static string FileStem(string database, string suffix)
    {
        var safe = new string([.. database.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
        return safe[..Math.Min(safe.Length, FileStemPrefixLength)] + Marker + suffix;
    }

    /// <summary>
    /// The separator the server's own paths use: a SQL Server on Linux reports <c>/var/opt/mssql/data/</c>, one on
    /// Windows <c>C:\…\DATA\</c> or <c>\\share\…</c>. The client's <see cref="Path.DirectorySeparatorChar"/> says nothing about it.
    /// </summary>
    internal static char ServerSeparator(string serverPath) =>
        serverPath.Contains('/', StringComparison.Ordinal) && !serverPath.Contains('\\', StringComparison.Ordinal) ? '/' : '\\';

    /// <summary>A file name in a folder of the server, joined with the server's separator.</summary>
    internal static string JoinServerPath(string folder, string name)
    {
        var separator = ServerSeparator(folder);
        return folder.TrimEnd(separator) + separator + name;
    }

    /// <summary>The folder of a server path (without its trailing separator), or null when it has none.</summary>
    internal static string? FolderOf(string? serverPath)
    {
        if (string.IsNullOrEmpty(serverPath))
        {
            return null;
        }

        var last = serverPath.LastIndexOf(ServerSeparator(serverPath));
        return last <= 0 ? null : serverPath[..last];
    }

    /// <summary>
    /// Where each file of the backup goes: data files (D) into the data folder, the first as .mdf and the others as
    /// .ndf; logs (L) into the log folder as .ldf; FILESTREAM and memory-optimized containers (S) and old full-text
    /// catalogs (F) are folders, named without an extension. The backup's FileId numbers them, so names never clash.
    /// </summary>
    internal static IReadOnlyList<(string Logical, string Physical)> MoveTargets(IReadOnlyList<BackupFile> files, string dataFolder, string logFolder, string stem) =>
        [.. files.Select(f => (f.LogicalName, f.Type switch
        {
            "L" => JoinServerPath(logFolder, $"{stem}_{f.FileId}.ldf"),
            "D" => JoinServerPath(dataFolder, $"{stem}_{f.FileId}.{(f.FileId == 1 ? "mdf" : "ndf")}"),
            _ => JoinServerPath(dataFolder, $"{stem}_{f.FileId}"),
        }))];

    /// <summary>The WITH MOVE list of a RESTORE, names and paths as literals with their quotes doubled.</summary>
    internal static string MoveClause(IReadOnlyList<(string Logical, string Physical)> targets) =>
        string.Join(", ", targets.Select(t => $"MOVE {SqlServerConnections.Literal(t.Logical)} TO {SqlServerConnections.Literal(t.Physical)}"));

    /// <summary>The two statements that drop a copy; the first may fail (a database left RESTORING takes no ALTER) and the second still runs.</summary>
    internal static string[] DropSql(string name) =>
    [
        $"ALTER DATABASE {SqlServerConnections.QuoteName(name)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
        $"IF DB_ID({SqlServerConnections.Literal(name)}) IS NOT NULL DROP DATABASE {SqlServerConnections.QuoteName(name)}",
    ];

    /// <summary>
    /// Why a step of the copy failed, in words that name the missing permission or the folder at fault, followed by
    /// the server's own error. 3013 ("… is terminating abnormally") and 3119 ("Problems were identified while
    /// planning…") only close a failed BACKUP/RESTORE: the error before them is the cause.
    /// </summary>
    internal static string Reason(CopyStep step, IReadOnlyList<(int Number, string Message)> errors, CopyTarget target)
    {
        var statement = step switch
        {
            CopyStep.Backup => "BACKUP DATABASE",
            CopyStep.ReadFileList => "RESTORE FILELISTONLY",
            _ => "RESTORE DATABASE",
        };
        var cause = errors.FirstOrDefault(e => e.Number is not (3013 or 3119));
        if (cause == default)
        {
            cause = errors.Count > 0 ? errors[0] : (0, "no error text");
        }

        var what = cause.Number switch
        {
            262 or 229 or 300 when step == CopyStep.Backup =>
                $"the login lacks BACKUP DATABASE permission on {target.Source} (db_backupoperator or db_owner)",
            262 or 229 or 300 or 3110 =>
                "the login lacks CREATE DATABASE permission, which RESTORE needs for a new database and FILELISTONLY too (the dbcreator role, or GRANT CREATE ANY DATABASE)",
            3201 or 3202 or 3203 or 3634 when step == CopyStep.Backup =>
                $"the SQL Server service account cannot write the backup file in {target.BackupFolder} (where the copy's backup is written), or its disk is full",
            3201 or 3203 or 3634 =>
                $"the SQL Server service account cannot read the backup file it wrote in {target.BackupFolder}",
            5133 or 5123 or 3156 or 1802 =>
                $"the SQL Server service account cannot create the copy's files in {target.DataFolder} (the server's default data folder)",
            3257 or 1101 or 1105 or 3202 =>
                "the server's disk has no room for a copy of the database",
            1827 or 1828 =>
                "the copy would exceed the edition's size limit (SQL Server Express: 10 GB per database)",
            3023 =>
                "another backup or file operation of the database was running; try again",
            1801 =>
                "a database of the copy's name already exists",
            _ => $"{statement} failed",
        };
        return $"{what} ({statement}: {cause.Number}: {cause.Message})";
    }

    private static (int Number, string Message)[] Errors(SqlException e) =>
        [.. e.Errors.Cast<SqlError>().Where(x => x.Class > 10).Select(x => (x.Number, x.Message)).DefaultIfEmpty((e.Number, e.Message))];

    private static async Task<ServerFacts> ReadServerFactsAsync(SqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(ServerFactsSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        string? Text(int i) => reader.IsDBNull(i) || reader.GetString(i).Length == 0 ? null : reader.GetString(i);
        return new ServerFacts(Text(0), Text(1), Text(2), Text(3), !reader.IsDBNull(4) && reader.GetBoolean(4));
    }

    private static async Task<IReadOnlyList<BackupFile>> ReadFileListAsync(SqlConnection connection, string backupFile, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(FileListSql, connection) { CommandTimeout = 0 };
        command.Parameters.Add(new SqlParameter("@path", SqlDbType.NVarChar, 4000) { Value = backupFile });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        int logical = reader.GetOrdinal("LogicalName"), type = reader.GetOrdinal("Type"), id = reader.GetOrdinal("FileId");
        var files = new List<BackupFile>();
        while (await reader.ReadAsync(cancellationToken))
        {
            files.Add(new BackupFile(
                reader.GetString(logical),
                reader.GetString(type).Trim(),
                Convert.ToInt64(reader.GetValue(id), CultureInfo.InvariantCulture)));
        }

        return files;
    }

    /// <summary>Deletes the backup file; null when it is gone, else why it stays.</summary>
    /// <summary>As <see cref="DeleteBackupFileAsync"/>, for a file that may not exist: the session may also be gone.</summary>
    private static async Task<string?> DeleteBackupFileQuietlyAsync(SqlConnection connection, string backupFile, bool serverMayDelete)
    {
        try
        {
            return connection.State == System.Data.ConnectionState.Open || File.Exists(backupFile)
                ? await DeleteBackupFileAsync(connection, backupFile, serverMayDelete)
                : "the session ended before it could be deleted";
        }
        catch (Exception e) when (e is InvalidOperationException or SqlException or IOException)
        {
            return e.Message;
        }
    }

    private static async Task<string?> DeleteBackupFileAsync(SqlConnection connection, string backupFile, bool serverMayDelete)
    {
        try
        {
            if (File.Exists(backupFile))
            {
                File.Delete(backupFile);
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!serverMayDelete)
            {
                return $"this machine could not delete it ({e.Message})";
            }
        }

        if (!serverMayDelete)
        {
            return "this machine does not see it and the login may not run xp_delete_file";
        }

        try
        {
            await SqlServerBackups.ExecuteAsync(connection, DeleteBackupFileSql, null, backupFile, CancellationToken.None);
        }
        catch (SqlException e)
        {
            return $"xp_delete_file failed: {e.Number}: {e.Message}";
        }

        // xp_delete_file reports no error for a file it did not delete, so the server is asked whether it is gone.
        return await ServerSeesFileAsync(connection, backupFile) ? "xp_delete_file did not delete it" : null;
    }

    /// <summary>Whether the server still sees the file (xp_fileexist, undocumented like xp_delete_file); false when it cannot say.</summary>
    private static async Task<bool> ServerSeesFileAsync(SqlConnection connection, string path)
    {
        try
        {
            await using var command = new SqlCommand(FileExistsSql, connection);
            command.Parameters.Add(new SqlParameter("@path", SqlDbType.NVarChar, 4000) { Value = path });
            await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
            return await reader.ReadAsync(CancellationToken.None) && Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture) == 1;
        }
        catch (SqlException)
        {
            return false;
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

    private sealed record ServerFacts(string? BackupPath, string? DataPath, string? LogPath, string? SourceDataFile, bool ServerMayDelete);
}

/// <summary>The source database, the copy's name and the server folders and files it is made with.</summary>
internal sealed record CopyTarget(string Source, string Name, string Stem, string BackupFile, string BackupFolder, string DataFolder, string LogFolder);

/// <summary>One row of RESTORE FILELISTONLY: the file's logical name, its type (D, L, S or F) and its FileId.</summary>
internal sealed record BackupFile(string LogicalName, string Type, long FileId);

/// <summary>The statements a copy is made with, each failing for its own reasons.</summary>
internal enum CopyStep
{
    Backup,
    ReadFileList,
    Restore,
}
