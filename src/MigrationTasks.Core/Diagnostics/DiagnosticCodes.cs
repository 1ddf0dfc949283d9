namespace MigrationTasks.Diagnostics;

/// <summary>
/// Every diagnostic code the product emits, in one place (docs/diagnostics.md mirrors this list). Ranges by area:
/// 1xxx configuration, 2xxx compile/validate, 3xxx tests, 4xxx staging, 5xxx package and signing, 6xxx production,
/// 7xxx history and locking.
/// </summary>
public static class DiagnosticCodes
{
    /// <summary>A verb was called with a missing or invalid option (unknown engine, missing value).</summary>
    public const string InvalidOption = "MIG1001";

    /// <summary>No dev database: the connection variable is unset and no ephemeral server can be started (warning).</summary>
    public const string NoDevDatabase = "MIG1002";

    /// <summary>The connection variable holds something that is not a valid connection string.</summary>
    public const string InvalidConnectionString = "MIG1003";

    /// <summary>The database server cannot be reached or refused the login.</summary>
    public const string CannotConnect = "MIG1004";

    /// <summary>Shadow validation was skipped: no database could be created for it (warning).</summary>
    public const string NoShadowDatabase = "MIG1005";

    /// <summary>The runner's connection variable is not set.</summary>
    public const string ConnectionVariableNotSet = "MIG1006";

    /// <summary>The migrate CLI exited with a failure code but printed no error (it crashed or was stopped); the MSBuild task reports it.</summary>
    public const string CliFailedWithoutError = "MIG1007";

    /// <summary>The build cannot write its state in obj/ (the dev target file; raised by the task, not the CLI).</summary>
    public const string StateFileUnwritable = "MIG1008";

    /// <summary>A migration file name does not follow V&lt;version&gt;__&lt;description&gt;.sql, R__… or U….</summary>
    public const string MalformedMigrationName = "MIG2001";

    /// <summary>Two migration files have the same version.</summary>
    public const string DuplicateVersion = "MIG2002";

    /// <summary>A script cannot be split into statements (unterminated string or comment, psql meta-command).</summary>
    public const string ScriptSyntax = "MIG2003";

    /// <summary>A statement of a migration failed on the server (shadow or dev).</summary>
    public const string MigrationFailed = "MIG2004";

    /// <summary>A migration mixes statements that need a transaction with ones that cannot run in one.</summary>
    public const string MixedTransactionMode = "MIG2005";

    /// <summary>A migration, test or schema file cannot be read.</summary>
    public const string UnreadableFile = "MIG2006";

    /// <summary>A T-SQL file (schema, pre- or post-deployment, migration) has a syntax error for the MigrationSqlServerVersion.</summary>
    public const string PlatformScriptSyntax = "MIG2010";

    /// <summary>DacFx's model of Schema/ has a problem: an unresolved reference (SQL71501, SQL71502) or a statement it cannot model.</summary>
    public const string SchemaModelProblem = "MIG2011";

    /// <summary>A code analysis rule (SR0001…SR0016) found a problem: a warning, an error when MigrationCodeAnalysisRules promotes it.</summary>
    public const string CodeAnalysisProblem = "MIG2012";

    /// <summary>DacFx could not build the dacpac, or it cannot be written.</summary>
    public const string ModelNotWritten = "MIG2013";

    /// <summary>A pre- or post-deployment script uses a SQLCMD variable ($(name)) that no :setvar, SqlCmdVariable item or built-in defines.</summary>
    public const string SqlCmdVariableUndefined = "MIG2020";

    /// <summary>A SQLCMD :r include names a file that does not exist.</summary>
    public const string SqlCmdIncludeNotFound = "MIG2021";

    /// <summary>SQLCMD :r includes form a cycle (a file includes itself, directly or through others).</summary>
    public const string SqlCmdIncludeCycle = "MIG2022";

    /// <summary>A SQLCMD command the build does not support (:connect, !!, :out…) or a malformed :setvar/:r.</summary>
    public const string SqlCmdUnsupported = "MIG2023";

    /// <summary>A Build, PreDeploy, PostDeploy item or :r include differs in case from the file on disk; the file on disk is used.</summary>
    public const string PathCaseMismatch = "MIG2024";

    /// <summary>SQL Server dev deploy: DacFx cannot generate the dacpac's deploy script against the dev database.</summary>
    public const string SchemaDeployScriptFailed = "MIG2025";

    /// <summary>A SQL Server project has both Schema/ (state-based) and Migrations/: the migrations are ignored.</summary>
    public const string MigrationsBesideSchema = "MIG2026";

    /// <summary>A script that runs outside the runner's transaction opens one of its own and never ends it.</summary>
    public const string UnendedTransaction = "MIG2027";

    /// <summary>A database test returned rows: the rows are the failures it found.</summary>
    public const string TestFailed = "MIG3001";

    /// <summary>A database test raised an error.</summary>
    public const string TestError = "MIG3002";

    /// <summary>A database test holds a statement that cannot run inside the transaction that is rolled back.</summary>
    public const string TestNotTransactional = "MIG3003";

    /// <summary>Staging's schema differs from what it should be: what its applied history produces, or (SQL Server) the baseline dacpac (drift).</summary>
    public const string StagingDrift = "MIG4001";

    /// <summary>A pre-deployment check returned rows on staging.</summary>
    public const string CheckFailed = "MIG4002";

    /// <summary>A pre-deployment check raised an error.</summary>
    public const string CheckError = "MIG4003";

    /// <summary>A pre-deployment check holds a statement that cannot run inside the transaction that undoes it.</summary>
    public const string CheckNotTransactional = "MIG4004";

    /// <summary>A pending migration failed in the rehearsal on staging's data.</summary>
    public const string RehearsalFailed = "MIG4005";

    /// <summary>SQL Server: the deploy against the baseline drops a table or column production has (data loss).</summary>
    public const string DataLossDrop = "MIG4010";

    /// <summary>SQL Server: the deploy against the baseline narrows a column's type (data loss possible).</summary>
    public const string DataLossNarrowing = "MIG4011";

    /// <summary>SQL Server: the deploy rebuilds a table (copies every row into a new table).</summary>
    public const string TableRebuild = "MIG4012";

    /// <summary>SQL Server: a NOT NULL column without default is added to an existing table (fails on a table with rows).</summary>
    public const string NotNullWithoutDefault = "MIG4013";

    /// <summary>SQL Server: another alert of DacFx's deploy report.</summary>
    public const string DeployAlert = "MIG4014";

    /// <summary>SQL Server: DacFx could not compare the dacpac with the baseline dacpac.</summary>
    public const string DeployPlanFailed = "MIG4015";

    /// <summary>The MigrationBaseline file cannot be read or is not a baseline (bad JSON, unknown schemaVersion, hash mismatch).</summary>
    public const string BaselineUnreadable = "MIG5001";

    /// <summary>The MigrationBaseline file was exported from another engine than MigrationEngine.</summary>
    public const string BaselineEngineMismatch = "MIG5002";

    /// <summary>Production's baseline schema differs from what its applied history produces on a shadow (warning).</summary>
    public const string BaselineSchemaMismatch = "MIG5003";

    /// <summary>No throwaway server to compute the release's expected schemas; the manifest has no post-state (warning).</summary>
    public const string NoExpectedPostState = "MIG5004";

    /// <summary>The signing certificate cannot be loaded (file, password, or no private key).</summary>
    public const string SigningCertificateUnusable = "MIG5005";

    /// <summary>The release folder or its manifest.json is missing, or the folder cannot be read.</summary>
    public const string ReleaseManifestMissing = "MIG5006";

    /// <summary>manifest.json is not a release manifest (bad JSON, another schemaVersion, missing fields, a path listed twice).</summary>
    public const string ReleaseManifestInvalid = "MIG5007";

    /// <summary>A manifest path is absolute, holds '..' or otherwise escapes its folder (no file was read), or a file is reached through a symbolic link.</summary>
    public const string UnsafeManifestPath = "MIG5008";

    /// <summary>The release is not signed and --allow-unsigned was not given.</summary>
    public const string UnsignedRelease = "MIG5009";

    /// <summary>The release's signer was not checked: unsigned, or no --trust, accepted with --allow-unsigned (warning).</summary>
    public const string SignerNotChecked = "MIG5010";

    /// <summary>manifest.json does not match its signature, or the signature is damaged or uses a weak digest.</summary>
    public const string InvalidSignature = "MIG5011";

    /// <summary>The release is signed by a certificate other than the trusted one.</summary>
    public const string UntrustedSigner = "MIG5012";

    /// <summary>--trust is missing, or is neither a certificate file nor a SHA-256 thumbprint.</summary>
    public const string InvalidTrust = "MIG5013";

    /// <summary>A listed file's SHA-256 differs from the manifest's, in release/ or beside it (the runner).</summary>
    public const string ReleaseFileChanged = "MIG5014";

    /// <summary>A file the manifest lists is missing from release/ or from beside it, or cannot be read.</summary>
    public const string ReleaseFileMissing = "MIG5015";

    /// <summary>release/ holds a file the manifest does not list, or an unlisted file beside it could be loaded by the .NET host.</summary>
    public const string UnlistedReleaseFile = "MIG5016";

    /// <summary>SQL Server: the MigrationBaseline dacpac cannot be read.</summary>
    public const string BaselineModelUnreadable = "MIG5020";

    /// <summary>SQL Server: the deploy script holds SQLCMD syntax a release cannot run (:r, an undefined $(variable)).</summary>
    public const string SqlCmdNotSupported = "MIG5021";

    /// <summary>SQL Server: the package step found no dacpac of the project (the build did not write one).</summary>
    public const string ModelMissing = "MIG5022";
    /// <summary>The backup folder cannot be created or written; no dump was attempted.</summary>
    public const string BackupDirectoryNotWritable = "MIG6001";

    /// <summary>A dump was written but cannot be proven readable (its table of contents is unreadable, empty or incomplete).</summary>
    public const string BackupNotProven = "MIG6002";

    /// <summary>The engine's backup programs (pg_dump, pg_restore, psql) are not installed.</summary>
    public const string BackupToolMissing = "MIG6003";

    /// <summary>A restore completed but the schema or data differs from what the backup recorded.</summary>
    public const string RestoreNotVerified = "MIG6004";

    /// <summary>The dump program failed; no backup was taken.</summary>
    public const string BackupFailed = "MIG6005";

    /// <summary>A restore failed and was rolled back: the database is as it was before the restore.</summary>
    public const string RestoreFailed = "MIG6006";

    /// <summary>A backup cannot be used: its metadata is missing or unreadable, or its dump is missing or changed.</summary>
    public const string BackupUnavailable = "MIG6007";
    /// <summary>Production's history or schema is not the state the release package was built for; nothing was touched.</summary>
    public const string PreStateMismatch = "MIG6010";

    /// <summary>A pre-deployment check returned rows on production; nothing was touched.</summary>
    public const string ProductionCheckFailed = "MIG6011";

    /// <summary>A pre-deployment check raised an error on production; nothing was touched.</summary>
    public const string ProductionCheckError = "MIG6012";

    /// <summary>A pre-deployment check cannot run inside the transaction that undoes it.</summary>
    public const string ProductionCheckNotTransactional = "MIG6013";

    /// <summary>A verification query returned rows after the deploy: the deploy is rolled back.</summary>
    public const string VerificationFailed = "MIG6014";

    /// <summary>A verification query raised an error after the deploy: the deploy is rolled back.</summary>
    public const string VerificationError = "MIG6015";

    /// <summary>A verification query cannot run inside the transaction that undoes it.</summary>
    public const string VerificationNotTransactional = "MIG6016";

    /// <summary>The schema after the deploy is not the post-state the package expects: the deploy is rolled back.</summary>
    public const string PostStateMismatch = "MIG6017";

    /// <summary>The deploy was started outside its maintenance window; nothing was touched.</summary>
    public const string OutsideWindow = "MIG6018";

    /// <summary>A failure left the database in a state a person must look at (e.g. the restore failed).</summary>
    public const string StateNeedsPerson = "MIG6019";

    /// <summary>A migration failed on production (the runner then rolls back or restores).</summary>
    public const string ProductionMigrationFailed = "MIG6020";

    /// <summary>The deploy stopped before its first migration (cancelled, connection lost): nothing was changed.</summary>
    public const string StoppedBeforeMigrating = "MIG6021";

    /// <summary>The report folder cannot be written; checked before anything runs.</summary>
    public const string ReportDirectoryNotWritable = "MIG6022";

    /// <summary>A backup was taken of another database than the one named by the connection variable.</summary>
    public const string BackupOfAnotherDatabase = "MIG6023";

    /// <summary>A restore would discard what other sessions wrote since the backup: not done; the database is left as it is (exit code 3).</summary>
    public const string WritesSinceBackup = "MIG6024";

    /// <summary>The target cannot take changes (a hot standby, a read-only database or transaction mode); refused before any backup.</summary>
    public const string ReadOnlyTarget = "MIG6025";

    /// <summary>An earlier deploy attempt needs a person, or one of another release did not finish: nothing runs until it is dealt with.</summary>
    public const string EarlierDeployUnfinished = "MIG6026";

    /// <summary>A migration statement gave up waiting for a table lock on every try; the release was rolled back.</summary>
    public const string LockWaitExhausted = "MIG6027";

    /// <summary>SQL Server: the edition (Azure SQL Database, Managed Instance) cannot BACKUP TO DISK; no backup, no deploy.</summary>
    public const string BackupToFileNotSupported = "MIG6030";

    /// <summary>SQL Server: the server wrote the backup to a path this machine cannot read (--backup-dir must be shared).</summary>
    public const string BackupNotVisibleHere = "MIG6031";

    /// <summary>SQL Server: RESTORE DATABASE failed part-way; the database may be left restoring and needs a person.</summary>
    public const string RestoreLeftIncomplete = "MIG6032";

    /// <summary>SQL Server: sp_getapplock refused the deploy lock request (cancelled, deadlock victim or a call error).</summary>
    public const string DeployLockRequestRefused = "MIG6033";

    /// <summary>An applied migration's bytes changed since it was applied.</summary>
    public const string AppliedMigrationChanged = "MIG7001";

    /// <summary>The deploy lock is held by another session beyond the wait limit.</summary>
    public const string LockTimeout = "MIG7002";

    /// <summary>The history holds a version no source file provides (warning).</summary>
    public const string AppliedMigrationMissing = "MIG7003";

    /// <summary>A non-transactional migration stopped part-way and its file has changed since.</summary>
    public const string PartialMigrationChanged = "MIG7004";

    /// <summary>A pending version is lower than the highest applied one.</summary>
    public const string OutOfOrderMigration = "MIG7005";

    /// <summary>A non-transactional migration stopped part-way earlier and is resumed (warning).</summary>
    public const string ResumingPartialMigration = "MIG7006";

    /// <summary>The deploy lock was taken from this run (its session ended), or another deploy applied the same migration: the run stops.</summary>
    public const string DeployLockLost = "MIG7007";
}
