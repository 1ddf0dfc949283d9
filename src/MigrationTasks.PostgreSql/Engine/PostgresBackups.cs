using System.Data;
using System.Diagnostics;
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
internal static class PostgresBackups
{
    private const string DumpExtension = ".dump";
    private const int DifferencesShown = 20;

    /// <summary>
    /// How long the restore waits for a lock before it gives up (and rolls back): a session that could not be ended
    /// and holds a table must fail the restore with a message, not hang the deploy.
    /// </summary>
    private const string RestoreLockTimeout = "30s";

    /// <summary>
    /// Runs first in the restore's transaction: drops everything pg_dump recreates, so that what the migration added
    /// since the backup (tables, schemas, enum values, extensions, large objects) goes too. pg_dump never creates the
    /// public schema (it assumes the standard one exists) and writes its owner, comment and privileges as changes
    /// from the standard ones, so it is recreated as initdb makes it, unless the database had none at backup time.
    /// </summary>
    private static string DropEverything(bool recreatePublic) => $$"""
        SET LOCAL lock_timeout = '{{RestoreLockTimeout}}';
        SET LOCAL client_min_messages = warning;
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

        // The dump, the schema hash and the table fingerprints describe one instant: pg_dump imports the snapshot
        // of this transaction, which reads the schema and the tables while pg_dump writes.
        SchemaSnapshot schema;
        IReadOnlyList<TableFingerprints.Table> tables;
        IReadOnlyList<TableFingerprint> fingerprints;
        await using (var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken))
        {
            var snapshot = await ScalarAsync(connection, transaction, "SET TRANSACTION READ ONLY; SELECT pg_catalog.pg_export_snapshot()", cancellationToken);
            using var stopDump = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var dump = tools.RunAsync("pg_dump", ["--no-password", "--format=custom", $"--snapshot={snapshot}", "--file", dumpPath], environment, stopDump.Token);
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
                File.Delete(dumpPath);
                if (e is PostgresException failure)
                {
                    throw Failed(displayName, $"reading the tables in the dump's snapshot failed: {failure.SqlState}: {failure.MessageText}");
                }

                throw;
            }

            var (exitCode, _, errors) = await dump;
            if (exitCode != 0)
            {
                File.Delete(dumpPath);
                throw Failed(displayName, $"pg_dump exited with code {exitCode}: {PostgresClientTools.FirstLines(errors)}");
            }
        }

        DatabaseBackup.KeepPrivate(dumpPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (proof, format) = await ProveAsync(tools, environment, dumpPath, tables, displayName, cancellationToken);
        var sha256 = await DatabaseBackup.HashFileAsync(dumpPath, cancellationToken);
        var rows = fingerprints.Sum(f => f.Rows);
        var backup = new DatabaseBackup(
            id,
            dumpPath,
            new FileInfo(dumpPath).Length,
            displayName,
            schema.Hash,
            takenAt,
            clock.Elapsed,
            $"{proof}; {rows} rows of {fingerprints.Count} tables counted{(hashRows ? " and hashed" : "")} in the dump's snapshot")
        {
            DumpSha256 = sha256,
            Format = format,
            Schema = schema,
            Tables = fingerprints,
        };
        backup.Save(folder);
        return backup;
    }

    public static async Task RestoreAsync(
        NpgsqlConnection connection, NpgsqlConnectionStringBuilder settings, string displayName, DatabaseBackup backup, CancellationToken cancellationToken)
    {
        await backup.VerifyDumpAsync(cancellationToken);
        var tools = PostgresClientTools.Find();
        var (database, user) = await IdentityAsync(connection, cancellationToken);
        var environment = ClientEnvironment.For(settings, database, user, "restore");
        var ended = await EndOtherSessionsAsync(connection, cancellationToken);

        var hadPublic = backup.Schema?.Objects.Any(o => o is { Kind: "schema", Name: "public" }) ?? true;
        var failure = await tools.RestoreInOneTransactionAsync(backup.DumpPath, DropEverything(hadPublic), environment, cancellationToken);
        if (failure is not null)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.RestoreFailed,
                $"restoring backup {backup.Id} into {displayName} failed and was rolled back: the database is exactly as it was before the restore. " +
                $"{failure}{ended} Fix what the error names, then restore again."));
        }

        // Types were dropped and made again with new OIDs: the driver must not map values with the old ones.
        await connection.ReloadTypesAsync(cancellationToken);
        await VerifyAsync(connection, displayName, backup, cancellationToken);
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
            var (exitCode, _, errors) = await tools.RunAsync("pg_dump", ["--no-password", "--format=custom", "--file", dumpPath], environment, cancellationToken);
            if (exitCode != 0)
            {
                return $"pg_dump exited with code {exitCode}: {PostgresClientTools.FirstLines(errors)}";
            }

            // The new database has the standard public schema, which pg_dump assumes; a source without one keeps none.
            var hasPublic = await ScalarAsync(connection, null, "SELECT pg_catalog.to_regnamespace('public') IS NOT NULL", cancellationToken);
            var prologue = hasPublic == "True" ? "" : "DROP SCHEMA IF EXISTS public CASCADE;";
            return await tools.RestoreInOneTransactionAsync(dumpPath, prologue, environment.ForDatabase(copyName), cancellationToken);
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
        var statement = $"CREATE DATABASE {QuoteIdentifier(name)} TEMPLATE template0 ENCODING {Literal(reader.GetString(0))} " +
                        $"LC_COLLATE {Literal(reader.GetString(1))} LC_CTYPE {Literal(reader.GetString(2))}";
        if (!reader.IsDBNull(3) && reader.GetString(3) == "i" && !reader.IsDBNull(4))
        {
            statement += $" LOCALE_PROVIDER icu ICU_LOCALE {Literal(reader.GetString(4))}";
        }

        return statement;
    }

    internal static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

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
            // An entry reads "3485; 0 16385 TABLE DATA public orders owner"; names are printed unquoted.
            var missing = tables.Where(t => !entries.Any(entry => entry.Contains($" TABLE DATA {t.Schema} {t.Name} ", StringComparison.Ordinal)
                                                                  || entry.EndsWith($" TABLE DATA {t.Schema} {t.Name}", StringComparison.Ordinal)))
                .Select(t => t.Quoted)
                .ToList();
            if (missing.Count > 0)
            {
                problem = $"its table of contents lacks the data of {string.Join(", ", missing.Take(DifferencesShown))}";
            }
        }

        if (problem is not null)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.BackupNotProven,
                $"the backup of {displayName} cannot be proven readable: {problem}. The dump was left at {dumpPath} for investigation; " +
                "no backup metadata was written, so it cannot be restored by id. Check the disk and that pg_dump and pg_restore are of one version, then back up again."));
        }

        var dumpedBy = lines.FirstOrDefault(line => line.StartsWith(";     Dumped by pg_dump version:", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        var format = $"pg_dump custom format{(dumpedBy is null ? "" : $" (pg_dump {dumpedBy})")}";
        return ($"pg_restore --list read {entries.Count} entries, with the data of each of the {tables.Count} tables", format);
    }

    /// <summary>Compares the restored database with what the backup recorded: schema hash, then each table's rows and content.</summary>
    private static async Task VerifyAsync(NpgsqlConnection connection, string displayName, DatabaseBackup backup, CancellationToken cancellationToken)
    {
        SchemaSnapshot schema;
        IReadOnlyList<TableFingerprint> fingerprints;
        await using (var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken))
        {
            schema = await SchemaSnapshotReader.ReadAsync(connection, transaction, null, cancellationToken);
            // Hashed again only when the backup recorded hashes: a count-only backup is proven by counts.
            var hashRows = backup.Tables.Any(t => t.ContentHash.Length > 0);
            fingerprints = await TableFingerprints.ReadAsync(connection, transaction, await TableFingerprints.ListAsync(connection, transaction, cancellationToken), hashRows, cancellationToken);
        }

        var differences = new List<string>();
        if (schema.Hash != backup.SchemaHash)
        {
            differences.AddRange(backup.Schema is null
                ? [$"schema hash {schema.Hash}, the backup had {backup.SchemaHash}"]
                : SchemaDiff.Compare(backup.Schema, schema).Select(d => d.ToString()));
        }

        differences.AddRange(TableFingerprints.Compare(backup.Tables, fingerprints));
        if (differences.Count > 0)
        {
            var shown = string.Join("; ", differences.Take(DifferencesShown)) + (differences.Count > DifferencesShown ? $"; … and {differences.Count - DifferencesShown} more" : "");
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.RestoreNotVerified,
                $"backup {backup.Id} was restored into {displayName}, but the result is not what the backup recorded ({differences.Count} difference(s)): {shown}. " +
                "The restore is committed. Compare the database with the backup by hand before letting traffic in."));
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

    private static DiagnosticException Failed(string displayName, string reason) =>
        new(Diagnostic.Error(
            DiagnosticCodes.BackupFailed,
            $"the backup of {displayName} failed, so no backup was taken: {reason}. Fix what it reports " +
            "(e.g. a pg_dump older than the server, permissions, disk space) and back up again."));
}
