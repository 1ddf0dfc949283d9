using System.Data;
using System.Diagnostics;
using System.Text;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using MigrationTasks.SqlServer.Engine;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// Native SQL Server backups: <c>BACKUP DATABASE … WITH COPY_ONLY, CHECKSUM</c> (COPY_ONLY leaves the production
/// backup chain alone), proven with <c>RESTORE VERIFYONLY … WITH CHECKSUM</c>, restored with <c>RESTORE DATABASE …
/// WITH REPLACE</c>. The SERVER writes and reads the .bak file, on its own file system: <c>--backup-dir</c> must be a
/// folder the SQL Server service account can write and the runner can read (the same machine, or a share both reach),
/// because the runner hashes the file and a later <c>migrate restore</c> finds it there.
/// </summary>
internal static class SqlServerBackups
{
    public const string DumpExtension = ".bak";

    /// <summary>SERVERPROPERTY('EngineEdition') values of the cloud editions that cannot BACKUP TO DISK.</summary>
    public static string? WhyNoDiskBackup(int engineEdition) => engineEdition switch
    {
        5 => "Azure SQL Database",
        6 => "Azure Synapse Analytics",
        8 => "Azure SQL Managed Instance",
        11 => "Azure Synapse serverless SQL pool",
        _ => null,
    };

    // The database name and the path are parameters: BACKUP and RESTORE take variables for both, so neither is
    // ever spliced into SQL. ALTER DATABASE takes no variable, hence QuoteName there.
    public const string BackupSql = "BACKUP DATABASE @database TO DISK = @path WITH COPY_ONLY, CHECKSUM, INIT";

    public const string VerifySql = "RESTORE VERIFYONLY FROM DISK = @path WITH CHECKSUM";

    public const string RestoreSql = "RESTORE DATABASE @database FROM DISK = @path WITH REPLACE, CHECKSUM";

    public static string SingleUserSql(string database) => $"ALTER DATABASE {SqlServerConnections.QuoteName(database)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE";

    public static string MultiUserSql(string database) => $"ALTER DATABASE {SqlServerConnections.QuoteName(database)} SET MULTI_USER";

    public static async Task<DatabaseBackup> BackupAsync(
        SqlConnection connection, SqlServerIdentity identity, string displayName, string backupDirectory, CancellationToken cancellationToken)
    {
        if (WhyNoDiskBackup(identity.EngineEdition) is { } edition)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.BackupToFileNotSupported,
                $"{displayName} is {edition}, which cannot BACKUP DATABASE to a file, so MigrationTasks cannot take the backup a deploy needs: " +
                "nothing was touched. Make a copy first (CREATE DATABASE … AS COPY OF …) or rely on the service's point-in-time restore, " +
                "and deploy with a tool path that does not need a file backup."));
        }

        // The folder is created here (not private: the SQL Server service account writes into it) and probed.
        string folder;
        try
        {
            folder = Path.GetFullPath(backupDirectory);
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            folder = backupDirectory;
        }

        folder = DatabaseBackup.PrepareDirectory(folder);
        var clock = Stopwatch.StartNew();
        var takenAt = DateTimeOffset.UtcNow;
        var id = DatabaseBackup.NewId(identity.Database, takenAt);
        var path = DatabaseBackup.DumpPathFor(folder, id, DumpExtension);

        // The deploy lock is held: no migration changes the schema between this read and the backup.
        var schema = await SqlServerSchemaReader.ReadAsync(connection, null, cancellationToken);
        try
        {
            await ExecuteAsync(connection, BackupSql, identity.Database, path, cancellationToken);
        }
        catch (SqlException e)
        {
            throw new DiagnosticException(BackupFailed(displayName, path, SqlServerBackupErrors.Explain(BackupStatement.Backup, e, Scene(identity.Database, path))));
        }

        string proof;
        try
        {
            proof = await VerifyAsync(connection, path, cancellationToken);
        }
        catch (SqlException e)
        {
            throw new DiagnosticException(NotProven(displayName, path, SqlServerBackupErrors.Explain(BackupStatement.Verify, e, Scene(identity.Database, path))));
        }

        if (!File.Exists(path))
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.BackupNotVisibleHere,
                $"{displayName} wrote the backup to {path} on its own file system, but this machine cannot read that file, so it cannot be hashed " +
                "or restored by id: nothing was migrated. Use a --backup-dir that the SQL Server service account can write and the runner can read " +
                "(the same machine, or a network share mounted at the same path on both)."));
        }

        string sha256;
        try
        {
            sha256 = await DatabaseBackup.HashFileAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.BackupNotVisibleHere,
                $"{displayName} wrote the backup to {path}, but this machine cannot read it ({e.Message}), so it cannot be hashed or restored by id: " +
                "nothing was migrated. Let the runner's user read the files the SQL Server service account writes in --backup-dir " +
                "(e.g. a shared group, or default ACLs on the folder)."));
        }

        var backup = new DatabaseBackup(
            id,
            path,
            new FileInfo(path).Length,
            displayName,
            schema.Hash,
            takenAt,
            clock.Elapsed,
            $"{proof}; schema hash recorded under the deploy lock (table contents are not fingerprinted on SQL Server: the backup's CHECKSUM covers every page)")
        {
            DumpSha256 = sha256,
            Engine = SqlServerEngine.EngineName,
            Format = $"SQL Server native backup, COPY_ONLY with CHECKSUM ({identity.Version})",
            Schema = schema,
        };
        backup.Save(folder);
        return backup;
    }

    /// <summary>
    /// Restores on a connection to master: the database goes SINGLE_USER WITH ROLLBACK IMMEDIATE (ending every other
    /// session of it; the deploy lock lives in master and survives), is restored WITH REPLACE, and goes MULTI_USER.
    /// Then the schema hash must be the backup's (MIG6004). A RESTORE that fails before it changed anything leaves
    /// the database online as it was (MIG6006); one that fails part-way leaves it restoring (MIG6032).
    /// </summary>
    public static async Task RestoreAsync(
        SqlConnectionStringBuilder settings, string database, string displayName, DatabaseBackup backup, CancellationToken cancellationToken)
    {
        await backup.VerifyDumpAsync(cancellationToken);
        SqlConnection master;
        try
        {
            master = await SqlServerDatabase.OpenConnectionAsync(SqlServerConnections.ForDatabase(settings, "master", "restore"), cancellationToken);
        }
        catch (DiagnosticException e)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.RestoreFailed,
                $"restoring backup {backup.Id} into {displayName} did not start: a restore runs from master, and {e.Diagnostics[0].Message} " +
                "The database is as it was before the restore."));
        }

        await using (master)
        {
            try
            {
                await ExecuteAsync(master, SingleUserSql(database), null, null, cancellationToken);
            }
            catch (SqlException e)
            {
                throw new DiagnosticException(Diagnostic.Error(
                    DiagnosticCodes.RestoreFailed,
                    $"restoring backup {backup.Id} into {displayName} did not start: setting it SINGLE_USER failed: {e.Number}: {e.Message} " +
                    "The database is as it was before the restore. The login needs ALTER on the database and dbcreator (or sysadmin); fix that and restore again."));
            }

            try
            {
                await ExecuteAsync(master, RestoreSql, database, backup.DumpPath, cancellationToken);
            }
            catch (SqlException e)
            {
                var failure = SqlServerBackupErrors.Explain(BackupStatement.Restore, e, Scene(database, backup.DumpPath));
                var state = await StateAsync(master, database);
                if (state == "ONLINE")
                {
                    await TryMultiUserAsync(master, database);
                    throw new DiagnosticException(RestoreFailedUnchanged(backup.Id, displayName, failure));
                }

                throw new DiagnosticException(RestoreIncomplete(backup.Id, displayName, database, backup.DumpPath, state ?? "gone", failure));
            }

            // The backup recorded MULTI_USER (it was taken while the database was in use); this makes sure of it.
            await TryMultiUserAsync(master, database);
        }

        await using var restored = await SqlServerDatabase.OpenConnectionAsync(SqlServerConnections.ForDatabase(settings, database), cancellationToken);
        var schema = await SqlServerSchemaReader.ReadAsync(restored, null, cancellationToken);
        if (backup.SchemaNotRestored(schema, displayName) is { } notRestored)
        {
            throw notRestored;
        }
    }

    /// <summary>MIG6005: the BACKUP failed; the cause and what to do come from the shared table.</summary>
    internal static Diagnostic BackupFailed(string displayName, string path, BackupFailure failure) => Diagnostic.Error(
        DiagnosticCodes.BackupFailed,
        $"the backup of {displayName} to {path} failed, so no backup was taken: {failure.Reason}. {failure.Advice}");

    /// <summary>MIG6002: the backup was written but RESTORE VERIFYONLY WITH CHECKSUM refused it.</summary>
    internal static Diagnostic NotProven(string displayName, string path, BackupFailure failure) => Diagnostic.Error(
        DiagnosticCodes.BackupNotProven,
        $"the backup of {displayName} cannot be proven readable: {failure.Reason}. The file was left at {path} for investigation; " +
        $"no backup metadata was written, so it cannot be restored by id. {failure.Advice}");

    /// <summary>MIG6006: the RESTORE failed and the database is still online, as it was (the runner counts this as rolled back).</summary>
    internal static Diagnostic RestoreFailedUnchanged(string backupId, string displayName, BackupFailure failure) => Diagnostic.Error(
        DiagnosticCodes.RestoreFailed,
        $"restoring backup {backupId} into {displayName} failed before it changed the database: {failure.Reason}. " +
        $"The database is online as it was before the restore. {failure.Advice}");

    /// <summary>MIG6032: the RESTORE failed part-way; the database is left <paramref name="state"/> and needs a person.</summary>
    internal static Diagnostic RestoreIncomplete(string backupId, string displayName, string database, string dumpPath, string state, BackupFailure failure) => Diagnostic.Error(
        DiagnosticCodes.RestoreLeftIncomplete,
        $"restoring backup {backupId} into {displayName} failed part-way: {failure.Reason}. The database is {state}. " +
        $"Fix the cause, then restore it by hand: RESTORE DATABASE {SqlServerConnections.QuoteName(database)} FROM DISK = {SqlServerConnections.Literal(dumpPath)} WITH REPLACE.");

    /// <summary>The backup file's folder is named as the server sees it: the path was given to the server as it is.</summary>
    private static BackupScene Scene(string database, string backupFile) =>
        BackupScene.ForDatabase(database, SqlServerPaths.FolderOf(backupFile) ?? backupFile);

    /// <summary>RESTORE VERIFYONLY's own words ("The backup set on file 1 is valid.") are the proof.</summary>
    private static async Task<string> VerifyAsync(SqlConnection connection, string path, CancellationToken cancellationToken)
    {
        var messages = new StringBuilder();
        void Collect(object sender, SqlInfoMessageEventArgs e) => messages.Append(e.Message.Trim()).Append(' ');
        connection.InfoMessage += Collect;
        try
        {
            await ExecuteAsync(connection, VerifySql, null, path, cancellationToken);
        }
        finally
        {
            connection.InfoMessage -= Collect;
        }

        var said = messages.ToString().Trim();
        return $"RESTORE VERIFYONLY WITH CHECKSUM: {(said.Length == 0 ? "no error" : said)}";
    }

    private static async Task<string?> StateAsync(SqlConnection master, string database)
    {
        try
        {
            await using var command = new SqlCommand("SELECT state_desc FROM sys.databases WHERE name = @database", master);
            command.Parameters.Add(new SqlParameter("@database", SqlDbType.NVarChar, 128) { Value = database });
            return (string?)await command.ExecuteScalarAsync(CancellationToken.None);
        }
        catch (SqlException)
        {
            return "in an unknown state";
        }
    }

    private static async Task TryMultiUserAsync(SqlConnection master, string database)
    {
        try
        {
            await ExecuteAsync(master, MultiUserSql(database), null, null, CancellationToken.None);
        }
        catch (SqlException)
        {
            // Left single-user, the database still works for the next connection; the restore's outcome is what counts.
        }
    }

    /// <summary>Runs <paramref name="sql"/> with no timeout, @database and @path bound when given; the copy (SqlServerDatabaseCopy) and the file cleanup use it too.</summary>
    internal static async Task ExecuteAsync(SqlConnection connection, string sql, string? database, string? path, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(sql, connection) { CommandTimeout = 0 };
        if (database is not null)
        {
            command.Parameters.Add(new SqlParameter("@database", SqlDbType.NVarChar, 128) { Value = database });
        }

        if (path is not null)
        {
            command.Parameters.Add(new SqlParameter("@path", SqlDbType.NVarChar, 4000) { Value = path });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
