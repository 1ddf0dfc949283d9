using MigrationTasks.SqlServer.Live;

namespace MigrationTasks.SqlServer.Tests.Live;

/// <summary>
/// The one table from a BACKUP or RESTORE error to its meaning and advice, as the database copy words it (a reason)
/// and as a deploy's backup and restore do (a MIG diagnostic). The server's errors are the texts SQL Server prints.
/// </summary>
[TestFixture]
public sealed class SqlServerBackupErrorsTests
{
    private static readonly BackupScene Copy = BackupScene.ForCopy("shop", "/var/opt/mssql/backup", "/var/opt/mssql/data");
    private static readonly BackupScene Deploy = BackupScene.ForDatabase("shop", "/srv/backups");

    private static string Reason(BackupStatement statement, params (int, string)[] errors) =>
        SqlServerBackupErrors.Explain(statement, errors, Copy).Reason;

    [Test]
    public void A_backup_refused_for_permission_names_the_permission_and_keeps_the_servers_words() =>
        Assert.That(Reason(BackupStatement.Backup, (262, "BACKUP DATABASE permission denied in database 'shop'."), (3013, "BACKUP DATABASE is terminating abnormally.")),
            Is.EqualTo(
                "the login lacks BACKUP DATABASE permission on shop (db_backupoperator or db_owner) " +
                "(BACKUP DATABASE: 262: BACKUP DATABASE permission denied in database 'shop'.)"));

    // Test parameters are names: the enums are internal, and a public test method cannot take them.
    [TestCase(nameof(BackupStatement.ReadFileList), 262)]
    [TestCase(nameof(BackupStatement.Restore), 262)]
    [TestCase(nameof(BackupStatement.Restore), 3110)]
    public void A_copys_restore_refused_for_permission_names_CREATE_DATABASE(string statement, int number) =>
        Assert.That(Reason(Enum.Parse<BackupStatement>(statement), (number, "denied"), (3013, "RESTORE DATABASE is terminating abnormally.")),
            Does.StartWith("the login lacks CREATE DATABASE permission").And.EndWith($": {number}: denied)"));

    [Test]
    public void A_backup_folder_the_server_cannot_write_is_named() =>
        Assert.That(Reason(BackupStatement.Backup,
                (3201, "Cannot open backup device '/var/opt/mssql/backup/x.bak'. Operating system error 5(Access is denied.)."), (3013, "BACKUP DATABASE is terminating abnormally.")),
            Does.StartWith("the SQL Server service account cannot write the backup file in /var/opt/mssql/backup").And.Contain("3201"));

    [Test]
    public void Files_the_restore_cannot_create_name_the_data_folder_and_the_planning_error_is_passed_over() =>
        Assert.That(Reason(BackupStatement.Restore,
                (3119, "Problems were identified while planning for the RESTORE statement."), (5133, "Directory lookup for the file failed."), (3013, "RESTORE DATABASE is terminating abnormally.")),
            Does.StartWith("the SQL Server service account cannot create the copy's files in /var/opt/mssql/data").And.Contain("RESTORE DATABASE: 5133"));

    [TestCase(3257, "no room")]
    [TestCase(1827, "size limit")]
    [TestCase(3023, "try again")]
    [TestCase(1801, "copy's name already exists")]
    [TestCase(50000, "RESTORE DATABASE failed")]
    public void Other_known_failures_say_what_happened(int number, string expected) =>
        Assert.That(Reason(BackupStatement.Restore, (number, "server words")), Does.Contain(expected).And.EndWith("server words)"));

    [Test]
    public void Only_the_terminating_error_is_still_a_reason() =>
        Assert.That(Reason(BackupStatement.Restore, (3013, "RESTORE DATABASE is terminating abnormally.")),
            Is.EqualTo("RESTORE DATABASE failed (RESTORE DATABASE: 3013: RESTORE DATABASE is terminating abnormally.)"));

    [Test]
    public void No_error_at_all_is_still_a_reason() =>
        Assert.That(Reason(BackupStatement.Verify), Is.EqualTo("RESTORE VERIFYONLY failed (RESTORE VERIFYONLY: 0: no error text)"));

    // The operating system's error in a file error tells a missing path from a refused one and a full disk.
    [TestCase(3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 3(The system cannot find the path specified.).", nameof(BackupFailureKind.BackupPathNotOnServer))]
    [TestCase(3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 2(The system cannot find the file specified.).", nameof(BackupFailureKind.BackupPathNotOnServer))]
    [TestCase(3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 5(Access is denied.).", nameof(BackupFailureKind.BackupFileNotWritable))]
    [TestCase(3202, "Write on \"/srv/backups/x.bak\" failed: 112(There is not enough space on the disk.)", nameof(BackupFailureKind.DiskFull))]
    [TestCase(3634, "The operating system returned the error '112(There is not enough space on the disk.)' while attempting 'WriteFile' on '/srv/backups/x.bak'.", nameof(BackupFailureKind.DiskFull))]
    [TestCase(3202, "Write on \"/srv/backups/x.bak\" failed: 1117(The request could not be performed because of an I/O device error.)", nameof(BackupFailureKind.BackupFileNotWritable))]
    [TestCase(262, "BACKUP DATABASE permission denied in database 'shop'.", nameof(BackupFailureKind.BackupPermissionDenied))]
    [TestCase(3023, "Backup, file manipulation operations (such as ALTER DATABASE ADD FILE) and encryption changes on a database must be serialized.", nameof(BackupFailureKind.DatabaseBusy))]
    [TestCase(50000, "something else", nameof(BackupFailureKind.Unknown))]
    public void A_backups_server_error_is_told_apart(int number, string message, string kind) =>
        Assert.That(SqlServerBackupErrors.Kind(BackupStatement.Backup, number, message), Is.EqualTo(Enum.Parse<BackupFailureKind>(kind)));

    [TestCase(3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 5(Access is denied.).", nameof(BackupFailureKind.BackupFileNotReadable))]
    [TestCase(3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 3(The system cannot find the path specified.).", nameof(BackupFailureKind.BackupPathNotOnServer))]
    [TestCase(3202, "Write on \"/var/opt/mssql/data/shop.mdf\" failed: 1117(I/O device error.)", nameof(BackupFailureKind.DiskFull))]
    [TestCase(3189, "Damage to the backup set was detected.", nameof(BackupFailureKind.BackupDamaged))]
    [TestCase(3169, "The database was backed up on a server running version 16.00.4135. That version is incompatible with this server.", nameof(BackupFailureKind.BackupFromNewerServer))]
    [TestCase(3110, "User does not have permission to RESTORE database 'shop'.", nameof(BackupFailureKind.RestorePermissionDenied))]
    [TestCase(5133, "Directory lookup for the file \"/var/opt/mssql/data/shop.mdf\" failed with the operating system error 3(The system cannot find the path specified.).", nameof(BackupFailureKind.DatabaseFilesNotCreatable))]
    public void A_restores_server_error_is_told_apart(int number, string message, string kind) =>
        Assert.That(SqlServerBackupErrors.Kind(BackupStatement.Restore, number, message), Is.EqualTo(Enum.Parse<BackupFailureKind>(kind)));

    [TestCase("Operating system error 5(Access is denied.).", 5)]
    [TestCase("operating system error 3(The system cannot find the path specified.)", 3)]
    [TestCase("Write on \"x\" failed: 112(There is not enough space on the disk.)", 112)]
    [TestCase("returned the error '39(The disk is full.)' while attempting", 39)]
    [TestCase("Cannot open backup device 'C:\\b\\x.bak'.", null)]
    [TestCase("Operating system error 5 but no parenthesis", null)]
    public void The_operating_system_error_is_read_from_the_servers_text(string message, int? expected) =>
        Assert.That(SqlServerBackupErrors.OperatingSystemError(message), Is.EqualTo(expected));

    // Every error number the copy has words for, with the statement it fails in: a deploy's backup and restore get
    // words and advice for each too (the backup code had neither before the table was shared).
    private static readonly (BackupStatement Statement, int Number, string Message)[] KnownErrors =
    [
        (BackupStatement.Backup, 262, "BACKUP DATABASE permission denied in database 'shop'."),
        (BackupStatement.Backup, 3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 5(Access is denied.)."),
        (BackupStatement.Backup, 3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 3(The system cannot find the path specified.)."),
        (BackupStatement.Backup, 3202, "Write on \"/srv/backups/x.bak\" failed: 112(There is not enough space on the disk.)"),
        (BackupStatement.Backup, 3023, "Backup, file manipulation operations … must be serialized."),
        (BackupStatement.Verify, 3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 5(Access is denied.)."),
        (BackupStatement.Verify, 3189, "Damage to the backup set was detected."),
        (BackupStatement.Verify, 262, "CREATE DATABASE permission denied in database 'master'."),
        (BackupStatement.Restore, 3110, "User does not have permission to RESTORE database 'shop'."),
        (BackupStatement.Restore, 5133, "Directory lookup for the file failed."),
        (BackupStatement.Restore, 3257, "There is insufficient free space on disk volume."),
        (BackupStatement.Restore, 1827, "CREATE DATABASE or ALTER DATABASE failed because the resulting cumulative database size would exceed your licensed limit."),
        (BackupStatement.Restore, 3169, "The database was backed up on a server running version 16.00. That version is incompatible with this server."),
        (BackupStatement.Restore, 1801, "Database 'shop' already exists."),
    ];

    private static IEnumerable<int> KnownErrorIndexes() => Enumerable.Range(0, KnownErrors.Length);

    [TestCaseSource(nameof(KnownErrorIndexes))]
    public void Every_known_error_has_a_cause_and_advice_for_both_the_copy_and_a_deploy(int index)
    {
        var error = KnownErrors[index];
        foreach (var scene in new[] { Copy, Deploy })
        {
            var failure = SqlServerBackupErrors.Explain(error.Statement, [(error.Number, error.Message), (3013, "terminating abnormally.")], scene);

            Assert.That(failure.Kind, Is.Not.EqualTo(BackupFailureKind.Unknown));
            Assert.That(failure.Cause, Is.Not.Null.And.Not.Contain(scene.IsCopy ? "--backup-dir" : "copy"), $"{scene}");
            Assert.That(failure.Advice, Does.EndWith("."));
            Assert.That(failure.Reason, Does.EndWith($": {error.Number}: {error.Message})"), "the server's own words follow");
        }
    }

    [Test]
    public void Every_kind_of_failure_the_table_names_is_reachable()
    {
        var reached = KnownErrors.Select(e => SqlServerBackupErrors.Kind(e.Statement, e.Number, e.Message))
            .Append(SqlServerBackupErrors.Kind(BackupStatement.Restore, 3201, "Operating system error 5(Access is denied.)."))
            .Append(SqlServerBackupErrors.Kind(BackupStatement.Restore, 50000, "x"));

        Assert.That(reached.Distinct(), Is.EquivalentTo(Enum.GetValues<BackupFailureKind>()));
    }
}
