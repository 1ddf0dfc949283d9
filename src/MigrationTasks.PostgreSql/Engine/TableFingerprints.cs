using MigrationTasks.Engines;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// Every table's row count and content hash: what a backup records and a restore must bring back. The hash is the
/// sum of a 64-bit hash of each row's text, so it does not depend on the rows' physical order (which a restore
/// changes), counts duplicates, and needs no memory or sort however big the table is. The backup reads them here,
/// in C#; the restore proves them inside its own transaction with the same SQL (<see cref="RestoredRowsProof"/>).
/// </summary>
internal static class TableFingerprints
{
    /// <summary>How the hash is made, stored with it so that a later version can tell its own from this one.</summary>
    public const string HashPrefix = "sum-hashtextextended:";

    /// <summary>
    /// Every ordinary table of the user's schemas (MigrationTasks' history included: a restore brings it back too),
    /// leaving out extension members, whose contents their extension owns: its OID and its name as SQL quotes it.
    /// </summary>
    public const string TablesQuery = """
        SELECT c.oid, pg_catalog.format('%I.%I', n.nspname, c.relname) AS quoted
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
        """;

    /// <summary>
    /// A row's text depends on these settings (dates, floats, bytea, money): fixing them makes it the same in the
    /// backup's session and the restore's, whatever the server's or the connection's defaults.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Value)> CanonicalSettings =
    [
        ("datestyle", "ISO, MDY"),
        ("intervalstyle", "postgres"),
        ("timezone", "UTC"),
        ("extra_float_digits", "3"),
        ("bytea_output", "hex"),
        ("lc_monetary", "C"),
    ];

    /// <summary>A table by its OID (how pg_restore --list names its data) and its name as SQL quotes it.</summary>
    public sealed record Table(uint Oid, string Quoted);

    /// <summary>
    /// The query that reads one table's row count and raw hash (NULL when not hashed, or when it has no rows).
    /// ONLY: an inheritance child's rows are its own fingerprint, not its parent's too. The alias cannot be taken
    /// for a column, so the whole row is hashed whatever the table's columns are called.
    /// </summary>
    public static string FingerprintQuery(string relation, bool hashRows) =>
        $"SELECT pg_catalog.count(*), {(hashRows ? "pg_catalog.sum(pg_catalog.hashtextextended(ROW(migrationtasks_row.*)::text, 0)::numeric)::text" : "NULL::text")} " +
        $"FROM ONLY {relation} AS migrationtasks_row";

    public static async Task<IReadOnlyList<Table>> ListAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"{TablesQuery} ORDER BY 2", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tables = new List<Table>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tables.Add(new Table(reader.GetFieldValue<uint>(0), reader.GetString(1)));
        }

        return tables;
    }

    /// <summary>Reads the fingerprints inside the caller's transaction, so that they describe its snapshot.</summary>
    public static async Task<IReadOnlyList<TableFingerprint>> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Table> tables, bool hashRows, CancellationToken cancellationToken)
    {
        var settings = string.Join('\n', CanonicalSettings.Select(s => $"SET LOCAL {s.Name} = '{s.Value}';"));
        await using (var command = new NpgsqlCommand(settings, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var fingerprints = new List<TableFingerprint>();
        foreach (var table in tables)
        {
            await using var command = new NpgsqlCommand(FingerprintQuery(table.Quoted, hashRows), connection, transaction);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            // An empty hash means "not hashed": counts only (a table with no rows hashes to "0", not to "").
            fingerprints.Add(new TableFingerprint(table.Quoted, reader.GetInt64(0), hashRows ? HashPrefix + (reader.IsDBNull(1) ? "0" : reader.GetString(1)) : ""));
        }

        return fingerprints;
    }
}
