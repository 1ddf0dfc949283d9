using System.Globalization;
using MigrationTasks.Engines;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// The SQL that proves a restore's rows inside the restore's own transaction, after the data is loaded and before
/// COMMIT: every table's row count (and content hash, when the backup recorded them) must be what the backup
/// recorded, read exactly as <see cref="TableFingerprints"/> reads them, canonical settings included. A difference
/// raises an error, so psql stops and the restore rolls back: the database is left as it was, instead of a restore
/// that committed the wrong rows and is found out afterwards.
/// </summary>
internal static class RestoredRowsProof
{
    /// <param name="backupId">Named in the error.</param>
    /// <param name="recorded">What the backup recorded; an empty hash means the backup only counted rows.</param>
    /// <param name="differencesShown">How many differences the error lists before "… and N more".</param>
    public static string Statement(string backupId, IReadOnlyList<TableFingerprint> recorded, int differencesShown)
    {
        var hashed = recorded.Any(t => t.ContentHash.Length > 0);
        var settings = TableFingerprints.CanonicalSettings;
        // Names arrive as literals, never as SQL text: the metadata is a file, and a name may hold any character.
        var body = $$"""

            DECLARE
                quoted_names text[] := ARRAY[{{string.Join(", ", recorded.Select(t => SqlLiteral.Of(t.Table)))}}]::text[];
                recorded_rows bigint[] := ARRAY[{{string.Join(", ", recorded.Select(t => t.Rows.ToString(CultureInfo.InvariantCulture)))}}]::bigint[];
                recorded_hashes text[] := ARRAY[{{string.Join(", ", recorded.Select(t => SqlLiteral.Of(t.ContentHash)))}}]::text[];
                saved text[] := ARRAY[{{string.Join(", ", settings.Select(s => $"pg_catalog.current_setting({SqlLiteral.Of(s.Name)})"))}}];
                relation regclass;
                found_rows bigint;
                found_hash text;
                extra record;
                differences text[] := ARRAY[]::text[];
            BEGIN
                {{string.Join("\n    ", settings.Select(s => $"PERFORM pg_catalog.set_config({SqlLiteral.Of(s.Name)}, {SqlLiteral.Of(s.Value)}, true);"))}}
                FOR i IN 1 .. coalesce(pg_catalog.array_length(quoted_names, 1), 0) LOOP
                    relation := pg_catalog.to_regclass(quoted_names[i]);
                    IF relation IS NULL THEN
                        differences := differences || pg_catalog.format('table %s (%s rows at backup) is missing', quoted_names[i], recorded_rows[i]);
                        CONTINUE;
                    END IF;
                    EXECUTE pg_catalog.format({{SqlLiteral.Of(TableFingerprints.FingerprintQuery("%s", hashed))}}, relation) INTO found_rows, found_hash;
                    IF found_rows <> recorded_rows[i] THEN
                        differences := differences || pg_catalog.format('table %s has %s rows, the backup had %s', quoted_names[i], found_rows, recorded_rows[i]);
                    ELSIF recorded_hashes[i] <> '' AND {{SqlLiteral.Of(TableFingerprints.HashPrefix)}} || coalesce(found_hash, '0') <> recorded_hashes[i] THEN
                        differences := differences || pg_catalog.format('table %s has its %s rows but different contents (hash %s, the backup had %s)',
                            quoted_names[i], found_rows, {{SqlLiteral.Of(TableFingerprints.HashPrefix)}} || coalesce(found_hash, '0'), recorded_hashes[i]);
                    END IF;
                END LOOP;
                FOR extra IN SELECT t.oid, t.quoted FROM ({{TableFingerprints.TablesQuery}}) t WHERE t.quoted <> ALL (quoted_names) ORDER BY t.quoted LOOP
                    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM ONLY %s', extra.oid::regclass) INTO found_rows;
                    differences := differences || pg_catalog.format('table %s (%s rows) was not in the backup', extra.quoted, found_rows);
                END LOOP;
                -- Back to the session's own settings: what runs after this, up to COMMIT, sees them.
                {{string.Join("\n    ", settings.Select((s, i) => $"PERFORM pg_catalog.set_config({SqlLiteral.Of(s.Name)}, saved[{i + 1}], true);"))}}
                IF pg_catalog.cardinality(differences) > 0 THEN
                    RAISE EXCEPTION USING MESSAGE = pg_catalog.format(
                        'the dump of backup %s does not hold the rows its metadata records (%s difference(s)): %s%s. Nothing was committed. '
                        'Restore another backup, or find out why the dump and its metadata file disagree',
                        {{SqlLiteral.Of(backupId)}},
                        pg_catalog.cardinality(differences),
                        pg_catalog.array_to_string(differences[1:{{differencesShown}}], '; '),
                        CASE WHEN pg_catalog.cardinality(differences) > {{differencesShown}} THEN pg_catalog.format('; … and %s more', pg_catalog.cardinality(differences) - {{differencesShown}}) ELSE '' END);
                END IF;
            END

            """;
        var tag = DollarTag(body);
        return $"DO {tag}{body}{tag};";
    }

    /// <summary>A dollar-quote tag that the body does not contain (a table's name might), so the body cannot end early.</summary>
    private static string DollarTag(string body)
    {
        var tag = "$migrationtasks_proof$";
        for (var n = 1; body.Contains(tag, StringComparison.Ordinal); n++)
        {
            tag = $"$migrationtasks_proof_{n.ToString(CultureInfo.InvariantCulture)}$";
        }

        return tag;
    }
}
