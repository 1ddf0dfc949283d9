using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// The one table from a failed BACKUP or RESTORE's server error to what it means and what to do, for a deploy's
/// backup and restore (SqlServerBackups, which put it into a MIG diagnostic) and for a database copy
/// (SqlServerDatabaseCopy, which returns it as the reason there is no copy). The server's own words always follow.
/// </summary>
internal static partial class SqlServerBackupErrors
{
    /// <summary>The errors of a failed statement with severity above 10 (the rest are information), else the exception's own.</summary>
    public static BackupFailure Explain(BackupStatement statement, SqlException failure, BackupScene scene) =>
        Explain(statement, [.. failure.Errors.Cast<SqlError>().Where(x => x.Class > 10).Select(x => (x.Number, x.Message)).DefaultIfEmpty((failure.Number, failure.Message))], scene);

    /// <summary>
    /// 3013 ("… is terminating abnormally") and 3119 ("Problems were identified while planning…") only close a failed
    /// BACKUP/RESTORE: the error before them is the cause.
    /// </summary>
    public static BackupFailure Explain(BackupStatement statement, IReadOnlyList<(int Number, string Message)> errors, BackupScene scene)
    {
        var cause = errors.FirstOrDefault(e => e.Number is not (3013 or 3119));
        if (cause == default)
        {
            cause = errors.Count > 0 ? errors[0] : (0, "no error text");
        }

        var kind = Kind(statement, cause.Number, cause.Message);
        return new BackupFailure(statement, kind, cause.Number, cause.Message, Cause(kind, statement, scene), Advice(kind, statement, scene));
    }

    /// <summary>The table itself: a server error number (and the operating system error in its text, for file errors) to what it means.</summary>
    public static BackupFailureKind Kind(BackupStatement statement, int number, string message) => (number, OperatingSystemError(message)) switch
    {
        (262 or 229 or 300, _) when statement == BackupStatement.Backup => BackupFailureKind.BackupPermissionDenied,
        (262 or 229 or 300 or 3110, _) => BackupFailureKind.RestorePermissionDenied,
        // 2 and 3: the file or path is not found. The path is the server's: a --backup-dir this machine made is not there.
        (3201 or 3202 or 3203 or 3634, 2 or 3) => BackupFailureKind.BackupPathNotOnServer,
        // 112 and 39: the disk is full.
        (3201 or 3202 or 3203 or 3634, 112 or 39) => BackupFailureKind.DiskFull,
        (3201 or 3202 or 3203 or 3634, _) when statement == BackupStatement.Backup => BackupFailureKind.BackupFileNotWritable,
        (3201 or 3203 or 3634, _) => BackupFailureKind.BackupFileNotReadable,
        (3189 or 3183, _) => BackupFailureKind.BackupDamaged,
        (3169, _) => BackupFailureKind.BackupFromNewerServer,
        (5133 or 5123 or 3156 or 1802, _) => BackupFailureKind.DatabaseFilesNotCreatable,
        (3257 or 1101 or 1105 or 3202, _) => BackupFailureKind.DiskFull,
        (1827 or 1828, _) => BackupFailureKind.EditionSizeLimit,
        (3023, _) => BackupFailureKind.DatabaseBusy,
        (1801, _) => BackupFailureKind.DatabaseNameTaken,
        _ => BackupFailureKind.Unknown,
    };

    /// <summary>
    /// The operating system's error number in a file error's text ("Operating system error 5(Access is denied.)",
    /// "Write on '…' failed: 112(…)", "returned the error '3(…)'"), or null.
    /// </summary>
    internal static int? OperatingSystemError(string message) =>
        OperatingSystemErrorPattern().Match(message) is { Success: true } match
            ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : null;

    [GeneratedRegex(@"(?:operating system error |failed: |the error ')(\d+)\(", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OperatingSystemErrorPattern();

    private static string? Cause(BackupFailureKind kind, BackupStatement statement, BackupScene scene) => kind switch
    {
        BackupFailureKind.BackupPermissionDenied =>
            $"the login lacks BACKUP DATABASE permission on {scene.Database} (db_backupoperator or db_owner)",
        BackupFailureKind.RestorePermissionDenied when statement == BackupStatement.Verify =>
            "the login lacks CREATE DATABASE permission, which RESTORE VERIFYONLY needs (the dbcreator role, or GRANT CREATE ANY DATABASE)",
        BackupFailureKind.RestorePermissionDenied when statement == BackupStatement.Restore && !scene.IsCopy =>
            $"the login may not restore over {scene.Database}: RESTORE of an existing database needs sysadmin, dbcreator or ownership of the database",
        BackupFailureKind.RestorePermissionDenied =>
            "the login lacks CREATE DATABASE permission, which RESTORE needs for a new database and FILELISTONLY too (the dbcreator role, or GRANT CREATE ANY DATABASE)",
        BackupFailureKind.BackupPathNotOnServer when statement == BackupStatement.Backup =>
            $"the SQL Server finds no folder {scene.BackupFolder} on its own file system",
        BackupFailureKind.BackupPathNotOnServer =>
            $"the SQL Server finds no backup file in {scene.BackupFolder} on its own file system",
        BackupFailureKind.BackupFileNotWritable when scene.IsCopy =>
            $"the SQL Server service account cannot write the backup file in {scene.BackupFolder} (where the copy's backup is written), or its disk is full",
        BackupFailureKind.BackupFileNotWritable =>
            $"the SQL Server service account cannot write the backup file in {scene.BackupFolder}, or its disk is full",
        BackupFailureKind.BackupFileNotReadable when scene.IsCopy =>
            $"the SQL Server service account cannot read the backup file it wrote in {scene.BackupFolder}",
        BackupFailureKind.BackupFileNotReadable =>
            $"the SQL Server service account cannot read the backup file in {scene.BackupFolder}",
        BackupFailureKind.BackupDamaged =>
            "the backup file is damaged: its pages do not match their checksums",
        BackupFailureKind.BackupFromNewerServer =>
            "the backup was taken on a newer SQL Server version than this server's",
        BackupFailureKind.DatabaseFilesNotCreatable when scene.CopyDataFolder is { } data =>
            $"the SQL Server service account cannot create the copy's files in {data} (the server's default data folder)",
        BackupFailureKind.DatabaseFilesNotCreatable =>
            $"the SQL Server service account cannot create the files of {scene.Database} where the backup recorded them",
        BackupFailureKind.DiskFull when statement == BackupStatement.Backup =>
            $"the disk that holds {scene.BackupFolder} has no room for the backup",
        BackupFailureKind.DiskFull when scene.IsCopy =>
            "the server's disk has no room for a copy of the database",
        BackupFailureKind.DiskFull =>
            $"the server's disk has no room for the files of {scene.Database}",
        BackupFailureKind.EditionSizeLimit when scene.IsCopy =>
            "the copy would exceed the edition's size limit (SQL Server Express: 10 GB per database)",
        BackupFailureKind.EditionSizeLimit =>
            "the restored database would exceed the edition's size limit (SQL Server Express: 10 GB per database)",
        BackupFailureKind.DatabaseBusy =>
            "another backup or file operation of the database was running; try again",
        BackupFailureKind.DatabaseNameTaken when scene.IsCopy =>
            "a database of the copy's name already exists",
        BackupFailureKind.DatabaseNameTaken =>
            $"a database named {scene.Database} already exists",
        _ => null,
    };

    private static string Advice(BackupFailureKind kind, BackupStatement statement, BackupScene scene) => kind switch
    {
        BackupFailureKind.BackupPermissionDenied =>
            $"Add the login to db_backupoperator in {scene.Database} (or GRANT BACKUP DATABASE to it), then run again.",
        BackupFailureKind.RestorePermissionDenied when statement == BackupStatement.Restore && !scene.IsCopy =>
            "Add the login to dbcreator (or make it the database's owner), then restore again.",
        BackupFailureKind.RestorePermissionDenied =>
            "Add the login to dbcreator (or GRANT CREATE ANY DATABASE to it), then run again.",
        BackupFailureKind.BackupPathNotOnServer =>
            "The backup path is on the SQL Server's own file system, not this machine's: use a --backup-dir that exists there " +
            "and that this machine reads too (the same machine, or a share mounted at the same path on both).",
        BackupFailureKind.BackupFileNotWritable =>
            $"Let the SQL Server service account write {scene.BackupFolder} (or use another --backup-dir) and make sure its disk has room, then run again.",
        BackupFailureKind.BackupFileNotReadable =>
            $"Let the SQL Server service account read the files in {scene.BackupFolder}, then run again.",
        BackupFailureKind.BackupDamaged =>
            "Check the disk that holds the backup file; take a new backup, or restore another one.",
        BackupFailureKind.BackupFromNewerServer =>
            "Restore it on a server of the same version or newer.",
        BackupFailureKind.DatabaseFilesNotCreatable =>
            "Let the SQL Server service account write the database's data and log folders (sys.master_files names them), then run again.",
        BackupFailureKind.DiskFull when statement == BackupStatement.Backup =>
            "Free space on that disk, or use a --backup-dir on another one, then run again.",
        BackupFailureKind.DiskFull =>
            "Free space on the server's data and log disks, then run again.",
        BackupFailureKind.EditionSizeLimit =>
            "Restore on an edition without that limit.",
        BackupFailureKind.DatabaseBusy =>
            "Wait for it to finish (sys.dm_exec_requests shows it), then run again.",
        BackupFailureKind.DatabaseNameTaken =>
            "Drop or rename that database, then run again.",
        _ when statement == BackupStatement.Backup =>
            "The path is on the SQL Server's own file system: --backup-dir must be a folder the SQL Server service account can write " +
            "(and this machine can read), the login needs BACKUP DATABASE permission (db_backupoperator), and the disk needs room.",
        _ when statement == BackupStatement.Verify =>
            "Check the disk, then back up again.",
        _ when statement == BackupStatement.Restore =>
            "Fix what the error names, then restore again.",
        _ => "Fix what the error names, then run again.",
    };
}
