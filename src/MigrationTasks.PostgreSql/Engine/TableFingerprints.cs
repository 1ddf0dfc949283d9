using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// Every table's row count and content hash: what a backup records and a restore must bring back. The hash is the
/// sum of a 64-bit hash of each row's text, so it does not depend on the rows' physical order (which a restore
/// changes), counts duplicates, and needs no memory or sort however big the table is.
/// </summary>
internal static class TableFingerprints
{
    /// <summary>How the hash is made, stored with it so that a later version can tell its own from this one.</summary>
    private const string HashPrefix = "sum-hashtextextended:";

    // A row's text depends on these settings (dates, floats, bytea, money): fixing them makes it the same in the
    // backup's session and the restore's, whatever the server's or the connection's defaults.
    private const string CanonicalSettings = """
        SET LOCAL datestyle = 'ISO, MDY';
        SET LOCAL intervalstyle = 'postgres';
        SET LOCAL timezone = 'UTC';
        SET LOCAL extra_float_digits = 3;
        SET LOCAL bytea_output = 'hex';
        SET LOCAL lc_monetary = 'C';
        """;

    /// <summary>A table by its schema and name as the catalog holds them, and as SQL quotes them.</summary>
    public sealed record Table(string Schema, string Name, string Quoted);

    /// <summary>
    /// Every ordinary table of the user's schemas (MigrationTasks' history included: a restore brings it back too),
    /// leaving out extension members, whose contents their extension owns.
    /// </summary>
    public static async Task<IReadOnlyList<Table>> ListAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname)
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
              AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY 3
            """,
            connection,
            transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tables = new List<Table>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tables.Add(new Table(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return tables;
    }

    /// <summary>Reads the fingerprints inside the caller's transaction, so that they describe its snapshot.</summary>
    public static async Task<IReadOnlyList<TableFingerprint>> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Table> tables, bool hashRows, CancellationToken cancellationToken)
    {
        await using (var settings = new NpgsqlCommand(CanonicalSettings, connection, transaction))
        {
            await settings.ExecuteNonQueryAsync(cancellationToken);
        }

        var fingerprints = new List<TableFingerprint>();
        foreach (var table in tables)
        {
            // ONLY: an inheritance child's rows are its own fingerprint, not its parent's too. The alias cannot be
            // taken for a column, so the whole row is hashed whatever the table's columns are called.
            await using var command = new NpgsqlCommand(
                $"""
                SELECT pg_catalog.count(*), {(hashRows ? "pg_catalog.sum(pg_catalog.hashtextextended(ROW(migrationtasks_row.*)::text, 0)::numeric)::text" : "NULL::text")}
                FROM ONLY {table.Quoted} AS migrationtasks_row
                """,
                connection,
                transaction);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            // An empty hash means "not hashed": counts only (a table with no rows hashes to "0", not to "").
            fingerprints.Add(new TableFingerprint(table.Quoted, reader.GetInt64(0), hashRows ? HashPrefix + (reader.IsDBNull(1) ? "0" : reader.GetString(1)) : ""));
        }

        return fingerprints;
    }

    /// <summary>What differs between the fingerprints a backup recorded and the ones read now.</summary>
    public static IReadOnlyList<string> Compare(IReadOnlyList<TableFingerprint> recorded, IReadOnlyList<TableFingerprint> now)
    {
        var current = now.ToDictionary(t => t.Table, StringComparer.Ordinal);
        var differences = new List<string>();
        foreach (var expected in recorded)
        {
            if (!current.Remove(expected.Table, out var found))
            {
                differences.Add($"table {expected.Table} ({expected.Rows} rows at backup) is missing");
            }
            else if (found.Rows != expected.Rows)
            {
                differences.Add($"table {expected.Table} has {found.Rows} rows, the backup had {expected.Rows}");
            }
            else if (expected.ContentHash.Length > 0 && found.ContentHash != expected.ContentHash)
            {
                differences.Add($"table {expected.Table} has its {found.Rows} rows but different contents (hash {found.ContentHash}, the backup had {expected.ContentHash})");
            }
        }

        differences.AddRange(current.Values.OrderBy(t => t.Table, StringComparer.Ordinal)
            .Select(t => $"table {t.Table} ({t.Rows} rows) was not in the backup"));
        return differences;
    }
}
