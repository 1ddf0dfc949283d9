using System.Data;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Schema;
using MigrationTasks.Schema;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// Backups with pg_dump (custom format, owners and privileges kept, so that a restore is faithful), proven with
/// pg_restore --list, and atomic restores through psql. The tools get the connection through their environment only.
/// </summary>
internal static partial class PostgresBackups
{
    private const string DumpExtension = ".dump";

    /// <summary>What a dump is called until it is complete and proven: a file with the final name is always a whole, proven dump.</summary>
    private const string PartialExtension = ".partial";

    private const int DifferencesShown = 20;

    /// <summary>
    /// How long the restore waits for a lock before it gives up (and rolls back): a session that could not be ended
    /// and holds a table must fail the restore with a message, not hang the deploy.
    /// </summary>
    private const string RestoreLockTimeout = "30s";

    /// <summary>
    /// Keeps the runner's own session open while it waits for pg_dump, pg_restore or psql: a server's
    /// idle_session_timeout (meant for the application's sessions) must not end it. The setting exists from
    /// PostgreSQL 14 on; before, there is nothing to turn off.
    /// </summary>
    private const string NoIdleSessionTimeout = "SELECT pg_catalog.set_config(name, '0', false) FROM pg_catalog.pg_settings WHERE name = 'idle_session_timeout'";

    /// <summary>
    /// First in a restore's transaction. psql waits for input inside the transaction while pg_restore reads the dump,
    /// and the drops and the proof may run long: the server's idle_in_transaction_session_timeout and statement_timeout
    /// (meant for the application's sessions) must not end the restore. psql writes the SQL as UTF-8, whatever the
    /// database's encoding; pg_restore's script then sets its own.
    /// </summary>
    private const string RestoreSettings = $"""
        SET client_encoding = 'UTF8';
        SET LOCAL idle_in_transaction_session_timeout = 0;
        SET LOCAL statement_timeout = 0;
        SET LOCAL lock_timeout = '{RestoreLockTimeout}';
        SET LOCAL client_min_messages = warning;
        """;

    /// <summary>
    /// Runs in the restore's transaction before pg_restore's script (after the settings and the BeforeDrop guard):
    /// drops everything pg_dump recreates, so that what the migration added since the backup (tables, schemas, enum
    /// values, extensions, large objects) goes too. pg_dump never creates the public schema (it assumes the standard
    /// one exists) and writes its owner, comment and privileges as changes from the standard ones, so it is recreated
    /// as initdb makes it, unless the database had none at backup time.
    /// </summary>
    private static string DropEverything(bool recreatePublic) => $$"""
        DO $migrationtasks$
        DECLARE
            item record;
        BEGIN
            FOR item IN SELECT e.evtname FROM pg_catalog.pg_event_trigger e
                        WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_event_trigger'::pg_catalog.regclass AND d.objid = e.oid AND d.deptype = 'e')
            LOOP
                EXECUTE format('DROP EVENT TRIGGER %I', item.evtname);
            END LOOP;
            FOR item IN SELECT pubname FROM pg_catalog.pg_publication LOOP
                EXECUTE format('DROP PUBLICATION %I', item.pubname);
            END LOOP;
            FOR item IN SELECT extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql' LOOP
                EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', item.extname);
            END LOOP;
            FOR item IN SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' LOOP
                EXECUTE format('DROP SCHEMA %I CASCADE', item.nspname);
            END LOOP;
            FOR item IN SELECT srvname FROM pg_catalog.pg_foreign_server LOOP
                EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', item.srvname);
            END LOOP;
            FOR item IN SELECT fdwname FROM pg_catalog.pg_foreign_data_wrapper LOOP
                EXECUTE format('DROP FOREIGN DATA WRAPPER IF EXISTS %I CASCADE', item.fdwname);
            END LOOP;
            PERFORM pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;
            IF {{(recreatePublic ? "true" : "false")}} THEN
                IF pg_catalog.current_setting('server_version_num')::int >= 150000 THEN
                    CREATE SCHEMA public AUTHORIZATION pg_database_owner;
                    GRANT USAGE ON SCHEMA public TO PUBLIC;
                ELSE
                    EXECUTE format('CREATE SCHEMA public AUTHORIZATION %I', (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = 10));
                    GRANT CREATE, USAGE ON SCHEMA public TO PUBLIC;
                END IF;
                COMMENT ON SCHEMA public IS 'standard public schema';
            END IF;
        END
        $migrationtasks$;
        """;

    public static async Task<DatabaseBackup> BackupAsync(
        NpgsqlConnection connection, NpgsqlConnectionStringBuilder settings, string displayName, string backupDirectory, bool hashRows, CancellationToken cancellationToken)
    {
        // The folder first: a deploy must learn that it cannot back up before anything is dumped.
        var folder = DatabaseBackup.PrepareDirectory(backupDirectory);
        var tools = PostgresClientTools.Find();
        var (database, user) = await IdentityAsync(connection, cancellationToken);
        var environment = ClientEnvironment.For(settings, database, user, "pg_dump");
        var clock = Stopwatch.StartNew();
        var takenAt = DateTimeOffset.UtcNow;
        var id = DatabaseBackup.NewId(database, takenAt);
        var dumpPath = DatabaseBackup.DumpPathFor(folder, id, DumpExtension);
        var partialPath = dumpPath + PartialExtension;
        // This session waits, idle, while the dump is proven and hashed, and the deploy goes on with it afterwards.
        await ScalarAsync(connection, null, NoIdleSessionTimeout, cancellationToken);

        FileStream file;
        try
        {
            file = DatabaseBackup.CreatePrivateFile(partialPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failed(displayName, $"{partialPath} cannot be created: {e.Message}");
        }

        // Before the snapshot: a write between the two counts as one made after the backup (the safe side).
        var counters = await PostgresWriteCounters.ReadAsync(connection, cancellationToken);
        SnapshotFacts facts;
        string proof, format, sha256;
        try
        {
            // Hashed on its way into the file: one pass over the dump instead of a second read of it.
            using var hasher = SHA256.Create();
            try
            {
                await using (file)
                {
                    await using (var hashing = new CryptoStream(file, hasher, CryptoStreamMode.Write, leaveOpen: true))
                    {
                        facts = await DumpInSnapshotAsync(connection, tools, environment, hashing, displayName, hashRows, cancellationToken);
                    }

                    // pg_dump syncs a file it writes itself; written through us, the dump is synced here, before a deploy relies on it.
                    file.Flush(flushToDisk: true);
                }
            }
            catch (IOException e)
            {
                throw Failed(displayName, $"writing the dump to {partialPath} failed: {e.Message}");
            }

            sha256 = Convert.ToHexString(hasher.Hash!).ToLowerInvariant();
            (proof, format) = await ProveAsync(tools, environment, partialPath, facts.Tables, displayName, cancellationToken);
            File.Move(partialPath, dumpPath);
        }
        catch
        {
            // A backup that failed or was cancelled leaves nothing behind: the file holds the database's rows.
            File.Delete(partialPath);
            throw;
        }

        var rows = facts.Fingerprints.Sum(f => f.Rows);
        var backup = new DatabaseBackup(
            id,
            dumpPath,
            new FileInfo(dumpPath).Length,
            displayName,
            facts.Schema.Hash,
            takenAt,
            clock.Elapsed,
            $"{proof}; {rows} rows of {facts.Fingerprints.Count} tables counted{(hashRows ? " and hashed" : "")} in the dump's snapshot")
        {
            DumpSha256 = sha256,
            Engine = PostgresEngine.EngineName,
            Format = format,
            Schema = facts.Schema,
            Tables = facts.Fingerprints,
            WriteCounters = counters,
        };
        backup.Save(folder);
        return backup;
    }

    /// <param name="hooks">SQL run inside the restore's transaction, before the drops and before COMMIT; none by default.</param>
    public static async Task RestoreAsync(
        NpgsqlConnection connection, NpgsqlConnectionStringBuilder settings, string displayName, DatabaseBackup backup, CancellationToken cancellationToken, RestoreHooks? hooks = null)
    {
        await backup.VerifyDumpAsync(cancellationToken);
        var tools = PostgresClientTools.Find();
        var (database, user) = await IdentityAsync(connection, cancellationToken);
        var environment = ClientEnvironment.For(settings, database, user, "restore");
        // This session waits, idle, while psql restores (long, for a big database), then reads the schema.
        await ScalarAsync(connection, null, NoIdleSessionTimeout, cancellationToken);
        var ended = await EndOtherSessionsAsync(connection, cancellationToken);

        var hadPublic = backup.Schema?.Objects.Any(o => o is { Kind: "schema", Name: "public" }) ?? true;
        var prologue = $"{RestoreSettings}\n{hooks?.BeforeDrop}\n{DropEverything(hadPublic)}";
        var epilogue = $"SET client_encoding = 'UTF8';\n{RestoredRowsProof.Statement(backup.Id, backup.Tables, DifferencesShown)}\n{hooks?.BeforeCommit}";
        var failure = await tools.RestoreInOneTransactionAsync(backup.DumpPath, prologue, epilogue, environment, cancellationToken);
        if (failure is not null)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.RestoreFailed,
                $"restoring backup {backup.Id} into {displayName} failed and was rolled back: the database is exactly as it was before the restore. " +
                $"{failure}{ended} Fix what the error names, then restore again."));
        }

        // Types were dropped and made again with new OIDs: the driver must not map values with the old ones.
        await connection.ReloadTypesAsync(cancellationToken);
        await VerifySchemaAsync(connection, displayName, backup, cancellationToken);
    }

    /// <summary>Copies the database into <paramref name="copyName"/> (created empty); null on success, else why not.</summary>
    public static async Task<string?> CopyIntoAsync(
        NpgsqlConnection connection, NpgsqlConnectionStringBuilder settings, string copyName, CancellationToken cancellationToken)
    {
        var tools = PostgresClientTools.TryFind(out var missing);
        if (tools is null)
        {
            return missing;
        }

        var (database, user) = await IdentityAsync(connection, cancellationToken);
        var environment = ClientEnvironment.For(settings, database, user, "pg_dump");
        var dumpPath = Path.Combine(Path.GetTempPath(), $"migrationtasks-copy-{Guid.NewGuid():N}{DumpExtension}");
        try
        {
            int exitCode;
            string errors;
            await using (var file = DatabaseBackup.CreatePrivateFile(dumpPath))
            {
                (exitCode, errors) = await tools.RunIntoAsync("pg_dump", ["--no-password", "--format=custom"], environment, file, cancellationToken);
            }

            if (exitCode != 0)
            {
                return $"pg_dump exited with code {exitCode}: {PostgresClientTools.FirstLines(errors)}";
            }

            // The new database has the standard public schema, which pg_dump assumes; a source without one keeps none.
            var hasPublic = await ScalarAsync(connection, null, "SELECT pg_catalog.to_regnamespace('public') IS NOT NULL", cancellationToken);
            var prologue = RestoreSettings + (hasPublic == "True" ? "" : "\nDROP SCHEMA IF EXISTS public CASCADE;");
            return await tools.RestoreInOneTransactionAsync(dumpPath, prologue, "", environment.ForDatabase(copyName), cancellationToken);
        }
        finally
        {
            File.Delete(dumpPath);
        }
    }

    /// <summary>The statement that creates an empty database like this one (encoding, locale), from template0 so that nothing of template1 gets in the way of a restore.</summary>
    public static async Task<string> CreateDatabaseLikeAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        // to_jsonb reads the locale provider columns without naming them: they differ between server versions.
        await using var command = new NpgsqlCommand(
            """
            SELECT pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,
                   pg_catalog.to_jsonb(d) ->> 'datlocprovider', coalesce(pg_catalog.to_jsonb(d) ->> 'daticulocale', pg_catalog.to_jsonb(d) ->> 'datlocale')
            FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var statement = $"CREATE DATABASE {QuoteIdentifier(name)} TEMPLATE template0 ENCODING {SqlLiteral.Of(reader.GetString(0))} " +
                        $"LC_COLLATE {SqlLiteral.Of(reader.GetString(1))} LC_CTYPE {SqlLiteral.Of(reader.GetString(2))}";
        if (!reader.IsDBNull(3) && reader.GetString(3) == "i" && !reader.IsDBNull(4))
        {
            statement += $" LOCALE_PROVIDER icu ICU_LOCALE {SqlLiteral.Of(reader.GetString(4))}";
        }

        return statement;
    }

    internal static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Writes the dump into <paramref name="destination"/> and, in the snapshot pg_dump dumps, reads the schema and every
    /// table's fingerprint: the dump, the schema hash and the fingerprints describe one instant.
    /// </summary>
    private static async Task<SnapshotFacts> DumpInSnapshotAsync(
        NpgsqlConnection connection,
        PostgresClientTools tools,
        ClientEnvironment environment,
        Stream destination,
        string displayName,
        bool hashRows,
        CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        // This session sits idle in its transaction while pg_dump writes (pg_dump sets its own session's timeouts),
        // and counts every row: the server's idle_in_transaction_session_timeout and statement_timeout must not end it.
        var snapshot = await ScalarAsync(
            connection,
            transaction,
            "SET TRANSACTION READ ONLY; SET LOCAL idle_in_transaction_session_timeout = 0; SET LOCAL statement_timeout = 0; SELECT pg_catalog.pg_export_snapshot()",
            cancellationToken);
        using var stopDump = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // To standard output, not --file: the file is ours, private from its first byte, and if this process dies
        // the pipe breaks and pg_dump exits at its next write instead of finishing a file no one will clean up.
        var dump = tools.RunIntoAsync("pg_dump", ["--no-password", "--format=custom", $"--snapshot={snapshot}"], environment, destination, stopDump.Token);
        SchemaSnapshot schema;
        IReadOnlyList<TableFingerprints.Table> tables;
        IReadOnlyList<TableFingerprint> fingerprints;
        try
        {
            schema = await SchemaSnapshotReader.ReadAsync(connection, transaction, null, cancellationToken);
            tables = await TableFingerprints.ListAsync(connection, transaction, cancellationToken);
            fingerprints = await TableFingerprints.ReadAsync(connection, transaction, tables, hashRows, cancellationToken);
        }
        catch (Exception e)
        {
            await stopDump.CancelAsync();
            await Task.WhenAny(dump);
            if (e is PostgresException failure)
            {
                throw Failed(displayName, $"reading the tables in the dump's snapshot failed: {failure.SqlState}: {failure.MessageText}");
            }

            throw;
        }

        var (exitCode, errors) = await dump;
        if (exitCode != 0)
        {
            throw Failed(displayName, $"pg_dump exited with code {exitCode}: {PostgresClientTools.FirstLines(errors)}");
        }

        return new SnapshotFacts(schema, tables, fingerprints);
    }

    /// <summary>
    /// Proves the dump readable: pg_restore --list must read its table of contents, which must list the data of
    /// every table fingerprinted in the dump's snapshot. MIG6002 otherwise.
    /// </summary>
    private static async Task<(string Proof, string Format)> ProveAsync(
        PostgresClientTools tools,
        ClientEnvironment environment,
        string dumpPath,
        IReadOnlyList<TableFingerprints.Table> tables,
        string displayName,
        CancellationToken cancellationToken)
    {
        var (exitCode, listing, errors) = await tools.RunAsync("pg_restore", ["--list", dumpPath], environment, cancellationToken);
        var lines = listing.Split('\n', StringSplitOptions.TrimEntries);
        var entries = lines.Where(line => line.Length > 0 && !line.StartsWith(';')).ToList();
        string? problem = null;
        if (exitCode != 0)
        {
            problem = $"pg_restore --list exited with code {exitCode}: {PostgresClientTools.FirstLines(errors)}";
        }
        else if (!lines.Any(line => line.StartsWith(";     Format: CUSTOM", StringComparison.Ordinal)))
        {
            // The header proves a readable archive; an empty database (a first deploy) dumps with no entries at all.
            problem = "pg_restore --list did not read a custom-format archive header from it";
        }
        else
        {
            // An entry reads "3485; 0 16385 TABLE DATA public orders owner": the third number is the table's OID.
            // Matched by OID, not by name: the names are printed unquoted, with newlines turned into spaces.
            var dumped = entries.Select(entry => TableDataEntry().Match(entry))
                .Where(match => match.Success)
                .Select(match => uint.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture))
                .ToHashSet();
            var missing = tables.Where(t => !dumped.Contains(t.Oid)).Select(t => t.Quoted).ToList();
            if (missing.Count > 0)
            {
                problem = $"its table of contents lacks the data of {string.Join(", ", missing.Take(DifferencesShown))}";
            }
        }

        if (problem is not null)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.BackupNotProven,
                $"the backup of {displayName} cannot be proven readable: {problem}. The dump {dumpPath} was deleted and no backup metadata was written. " +
                "Check the disk and that pg_dump and pg_restore are of one version, then back up again."));
        }

        var dumpedBy = lines.FirstOrDefault(line => line.StartsWith(";     Dumped by pg_dump version:", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var format = $"pg_dump custom format{(dumpedBy is null ? "" : $" (pg_dump {dumpedBy})")}";
        return ($"pg_restore --list read {entries.Count} entries, with the data of each of the {tables.Count} tables", format);
    }

    /// <summary>
    /// Compares the restored schema with what the backup recorded, after COMMIT: the schema snapshot reader is C#
    /// (SchemaSnapshotReader), so it cannot run inside psql's transaction. The rows were proven there, before COMMIT.
    /// </summary>
    private static async Task VerifySchemaAsync(NpgsqlConnection connection, string displayName, DatabaseBackup backup, CancellationToken cancellationToken)
    {
        SchemaSnapshot schema;
        await using (var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken))
        {
            schema = await SchemaSnapshotReader.ReadAsync(connection, transaction, null, cancellationToken);
        }

        if (backup.SchemaNotRestored(schema, displayName) is { } notRestored)
        {
            throw notRestored;
        }
    }

    /// <summary>
    /// Ends every other session of this database, except ours and the one holding the MigrationTasks deploy lock
    /// (the deploy that asked for the restore): a session in a transaction would hold locks the restore waits for,
    /// and any session would carry plans and types of the objects the restore replaces. Returns a sentence for
    /// the failure message when some could not be ended (not allowed); those may make the restore time out.
    /// </summary>
    private static async Task<string> EndOtherSessionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var pids = new List<int>();
        await using (var command = new NpgsqlCommand(
            $"""
            SELECT a.pid FROM pg_catalog.pg_stat_activity a
            WHERE a.datname = pg_catalog.current_database() AND a.pid <> pg_catalog.pg_backend_pid() AND a.backend_type = 'client backend'
              AND NOT EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.pid = a.pid AND {PostgresDeployLock.IsHeldLock("l")})
            """,
            connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                pids.Add(reader.GetInt32(0));
            }
        }

        var refused = new List<string>();
        foreach (var pid in pids)
        {
            try
            {
                await ScalarAsync(connection, null, $"SELECT pg_catalog.pg_terminate_backend({pid})", cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                refused.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        // pg_terminate_backend only signals: wait (briefly) until the sessions are gone and their locks released.
        for (var wait = 0; wait < 50 && pids.Count > refused.Count; wait++)
        {
            var left = await ScalarAsync(connection, null, $"SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity WHERE pid = ANY(ARRAY[{string.Join(',', pids)}]::int[])", cancellationToken);
            if (long.Parse(left, System.Globalization.CultureInfo.InvariantCulture) <= refused.Count)
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        return refused.Count == 0
            ? ""
            : $" (Sessions {string.Join(", ", refused)} of other users could not be ended; if they held locks, the restore waited {RestoreLockTimeout} for them.)";
    }

    private static async Task<(string Database, string User)> IdentityAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_catalog.current_database(), session_user", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetString(0), reader.GetString(1));
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return Convert.ToString(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }

    [GeneratedRegex(@"^\d+; \d+ (\d+) TABLE DATA ")]
    private static partial Regex TableDataEntry();

    private static DiagnosticException Failed(string displayName, string reason) =>
        new(Diagnostic.Error(
            DiagnosticCodes.BackupFailed,
            $"the backup of {displayName} failed, so no backup was taken: {reason}. Fix what it reports " +
            "(e.g. a pg_dump older than the server, permissions, disk space) and back up again."));

    /// <summary>What was read in the dump's snapshot: the schema, the tables and their fingerprints.</summary>
    private sealed record SnapshotFacts(SchemaSnapshot Schema, IReadOnlyList<TableFingerprints.Table> Tables, IReadOnlyList<TableFingerprint> Fingerprints);
}
