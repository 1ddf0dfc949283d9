using MigrationTasks.Diagnostics;
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

    [Test]
    public void A_deploys_backup_to_a_folder_the_server_does_not_have_says_the_path_is_the_servers_with_MIG6005()
    {
        var failure = SqlServerBackupErrors.Explain(BackupStatement.Backup,
            [(3201, "Cannot open backup device '/srv/backups/x.bak'. Operating system error 3(The system cannot find the path specified.)."), (3013, "BACKUP DATABASE is terminating abnormally.")],
            Deploy);

        var diagnostic = SqlServerBackups.BackupFailed("production database shop", "/srv/backups/x.bak", failure);

        Assert.That(diagnostic.Code, Is.EqualTo(DiagnosticCodes.BackupFailed));
        Assert.That(diagnostic.Message, Is.EqualTo(
            "the backup of production database shop to /srv/backups/x.bak failed, so no backup was taken: " +
            "the SQL Server finds no folder /srv/backups on its own file system " +
            "(BACKUP DATABASE: 3201: Cannot open backup device '/srv/backups/x.bak'. Operating system error 3(The system cannot find the path specified.).). " +
            "The backup path is on the SQL Server's own file system, not this machine's: use a --backup-dir that exists there " +
            "and that this machine reads too (the same machine, or a share mounted at the same path on both)."));
    }

    [Test]
    public void A_deploys_backup_refused_for_permission_says_which_role_to_grant_with_MIG6005()
    {
        var failure = SqlServerBackupErrors.Explain(BackupStatement.Backup, [(262, "BACKUP DATABASE permission denied in database 'shop'.")], Deploy);

        var diagnostic = SqlServerBackups.BackupFailed("production database shop", "/srv/backups/x.bak", failure);

        Assert.That(diagnostic.Code, Is.EqualTo("MIG6005"));
        Assert.That(diagnostic.Message, Does.Contain("the login lacks BACKUP DATABASE permission on shop").And.EndWith("Add the login to db_backupoperator in shop (or GRANT BACKUP DATABASE to it), then run again."));
    }

    [Test]
    public void An_unknown_backup_error_keeps_the_general_advice()
    {
        var failure = SqlServerBackupErrors.Explain(BackupStatement.Backup, [(50000, "odd")], Deploy);

        Assert.That(SqlServerBackups.BackupFailed("db", "/srv/backups/x.bak", failure).Message, Is.EqualTo(
            "the backup of db to /srv/backups/x.bak failed, so no backup was taken: BACKUP DATABASE failed (BACKUP DATABASE: 50000: odd). " +
            "The path is on the SQL Server's own file system: --backup-dir must be a folder the SQL Server service account can write " +
            "(and this machine can read), the login needs BACKUP DATABASE permission (db_backupoperator), and the disk needs room."));
    }

    [Test]
    public void A_backup_that_verifies_damaged_is_MIG6002_and_says_the_file_was_kept()
    {
        var failure = SqlServerBackupErrors.Explain(BackupStatement.Verify, [(3189, "Damage to the backup set was detected."), (3013, "VERIFY DATABASE is terminating abnormally.")], Deploy);

        var diagnostic = SqlServerBackups.NotProven("db", "/srv/backups/x.bak", failure);

        Assert.That(diagnostic.Code, Is.EqualTo(DiagnosticCodes.BackupNotProven));
        Assert.That(diagnostic.Message, Does.StartWith("the backup of db cannot be proven readable: the backup file is damaged")
            .And.Contain("(RESTORE VERIFYONLY: 3189: Damage to the backup set was detected.)")
            .And.Contain("The file was left at /srv/backups/x.bak")
            .And.EndWith("take a new backup, or restore another one."));
    }

    [Test]
    public void A_restore_refused_before_it_changed_anything_stays_MIG6006_and_names_the_role()
    {
        var failure = SqlServerBackupErrors.Explain(BackupStatement.Restore, [(3110, "User does not have permission to RESTORE database 'shop'.")], Deploy);

        var diagnostic = SqlServerBackups.RestoreFailedUnchanged("shop-20260101", "production database shop", failure);

        // The runner reads MIG6006 as "rolled back: the database is as it was"; the table must not change the code.
        Assert.That(diagnostic.Code, Is.EqualTo(DiagnosticCodes.RestoreFailed));
        Assert.That(diagnostic.Message, Does.StartWith("restoring backup shop-20260101 into production database shop failed before it changed the database: the login may not restore over shop")
            .And.Contain("The database is online as it was before the restore.")
            .And.EndWith("Add the login to dbcreator (or make it the database's owner), then restore again."));
    }

    [Test]
    public void A_restore_that_stopped_part_way_stays_MIG6032_with_the_cause_and_the_statement_to_finish_by_hand()
    {
        var failure = SqlServerBackupErrors.Explain(BackupStatement.Restore,
            [(3257, "There is insufficient free space on disk volume '/var/opt/mssql/data'.")], BackupScene.ForDatabase("sh]op", "/srv/backups"));

        var diagnostic = SqlServerBackups.RestoreIncomplete("b1", "db", "sh]op", "/srv/backups/o'b1.bak", "RESTORING", failure);

        Assert.That(diagnostic.Code, Is.EqualTo(DiagnosticCodes.RestoreLeftIncomplete));
        Assert.That(diagnostic.Message, Is.EqualTo(
            "restoring backup b1 into db failed part-way: the server's disk has no room for the files of sh]op " +
            "(RESTORE DATABASE: 3257: There is insufficient free space on disk volume '/var/opt/mssql/data'.). The database is RESTORING. " +
            "Fix the cause, then restore it by hand: RESTORE DATABASE [sh]]op] FROM DISK = N'/srv/backups/o''b1.bak' WITH REPLACE."));
    }
}
