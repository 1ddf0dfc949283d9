using MigrationTasks.Schema;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// Reads a database's schema into a canonical <see cref="SchemaSnapshot"/> from the catalog views: schemas, tables,
/// columns (type, nullability, identity, computed expression, default, collation), constraints, indexes, views,
/// procedures, functions, triggers, sequences and user-defined types. The <c>migrationtasks</c> schema is left out.
/// Constraints whose names the server made up (PK__orders__3213E83F…) are named by what they are, so that two
/// databases built from the same scripts compare equal. Needs SQL Server 2017 or later (STRING_AGG).
/// </summary>
internal static class SqlServerSchemaReader
{
    internal const string Query = """
        WITH user_schemas AS (
            SELECT schema_id, name FROM sys.schemas
            WHERE name <> N'migrationtasks' AND name NOT IN (N'sys', N'INFORMATION_SCHEMA', N'guest')
              AND schema_id < 16384 -- the fixed database roles' schemas
        ),
        user_tables AS (
            SELECT t.object_id, s.name + N'.' + t.name AS qualified
            FROM sys.tables AS t JOIN user_schemas AS s ON s.schema_id = t.schema_id
            WHERE t.is_ms_shipped = 0
        ),
        index_columns AS (
            SELECT ic.object_id, ic.index_id,
                   STRING_AGG(CASE WHEN ic.is_included_column = 0 THEN c.name + CASE WHEN ic.is_descending_key = 1 THEN N' DESC' ELSE N'' END END, N', ')
                       WITHIN GROUP (ORDER BY ic.key_ordinal) AS keys,
                   STRING_AGG(CASE WHEN ic.is_included_column = 1 THEN c.name END, N', ') WITHIN GROUP (ORDER BY c.name) AS included
            FROM sys.index_columns AS ic JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
            GROUP BY ic.object_id, ic.index_id
        )
        SELECT N'schema', s.name, N'owner ' + USER_NAME(sc.principal_id)
        FROM user_schemas AS s JOIN sys.schemas AS sc ON sc.schema_id = s.schema_id
        WHERE s.name <> N'dbo'
        UNION ALL
        SELECT N'table', t.qualified, N'table'
            + CASE WHEN st.is_memory_optimized = 1 THEN N' memory-optimized' ELSE N'' END
            + CASE WHEN st.temporal_type = 2 THEN N' system-versioned' ELSE N'' END
        FROM user_tables AS t JOIN sys.tables AS st ON st.object_id = t.object_id
        UNION ALL
        SELECT N'column', t.qualified + N'.' + c.name,
               CONCAT(
                      CASE WHEN cc.definition IS NOT NULL THEN N'AS ' + cc.definition + CASE WHEN cc.is_persisted = 1 THEN N' PERSISTED' ELSE N'' END
                           ELSE TYPE_NAME(c.user_type_id)
                                + CASE WHEN TYPE_NAME(c.user_type_id) IN (N'varchar', N'char', N'varbinary', N'binary')
                                       THEN N'(' + CASE WHEN c.max_length = -1 THEN N'max' ELSE CAST(c.max_length AS nvarchar(10)) END + N')'
                                       WHEN TYPE_NAME(c.user_type_id) IN (N'nvarchar', N'nchar')
                                       THEN N'(' + CASE WHEN c.max_length = -1 THEN N'max' ELSE CAST(c.max_length / 2 AS nvarchar(10)) END + N')'
                                       WHEN TYPE_NAME(c.user_type_id) IN (N'decimal', N'numeric')
                                       THEN CONCAT(N'(', c.precision, N',', c.scale, N')')
                                       WHEN TYPE_NAME(c.user_type_id) IN (N'datetime2', N'datetimeoffset', N'time')
                                       THEN CONCAT(N'(', c.scale, N')')
                                       ELSE N'' END END,
                      CASE WHEN c.is_nullable = 1 THEN N' NULL' ELSE N' NOT NULL' END,
                      CASE WHEN ic.object_id IS NOT NULL THEN CONCAT(N' IDENTITY(', CAST(ic.seed_value AS nvarchar(40)), N',', CAST(ic.increment_value AS nvarchar(40)), N')') ELSE N'' END,
                      CASE WHEN c.collation_name IS NOT NULL THEN N' COLLATE ' + c.collation_name ELSE N'' END,
                      CASE WHEN dc.definition IS NOT NULL THEN N' DEFAULT ' + dc.definition
                           + CASE WHEN dc.is_system_named = 0 THEN N' (' + dc.name + N')' ELSE N'' END ELSE N'' END,
                      CASE WHEN c.is_rowguidcol = 1 THEN N' ROWGUIDCOL' ELSE N'' END,
                      CASE WHEN c.is_sparse = 1 THEN N' SPARSE' ELSE N'' END)
        FROM user_tables AS t
        JOIN sys.columns AS c ON c.object_id = t.object_id
        LEFT JOIN sys.computed_columns AS cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
        LEFT JOIN sys.identity_columns AS ic ON ic.object_id = c.object_id AND ic.column_id = c.column_id
        LEFT JOIN sys.default_constraints AS dc ON dc.object_id = c.default_object_id
        UNION ALL
        SELECT N'constraint',
               t.qualified + N'.' + CASE WHEN k.is_system_named = 0 THEN k.name
                                         WHEN k.type = 'PK' THEN N'PRIMARY KEY'
                                         ELSE N'UNIQUE (' + ISNULL(x.keys, N'') + N')' END,
               CONCAT(CASE WHEN k.type = 'PK' THEN N'PRIMARY KEY ' ELSE N'UNIQUE ' END, i.type_desc COLLATE DATABASE_DEFAULT, N' (', x.keys, N')')
        FROM user_tables AS t
        JOIN sys.key_constraints AS k ON k.parent_object_id = t.object_id
        JOIN sys.indexes AS i ON i.object_id = t.object_id AND i.index_id = k.unique_index_id
        LEFT JOIN index_columns AS x ON x.object_id = i.object_id AND x.index_id = i.index_id
        UNION ALL
        SELECT N'constraint',
               t.qualified + N'.' + CASE WHEN f.is_system_named = 0 THEN f.name ELSE N'FOREIGN KEY (' + ISNULL(fc.columns, N'') + N')' END,
               CONCAT(N'FOREIGN KEY (', fc.columns, N') REFERENCES ', OBJECT_SCHEMA_NAME(f.referenced_object_id), N'.', OBJECT_NAME(f.referenced_object_id),
                      N' (', fc.referenced, N') ON DELETE ', f.delete_referential_action_desc COLLATE DATABASE_DEFAULT,
                      N' ON UPDATE ', f.update_referential_action_desc COLLATE DATABASE_DEFAULT,
                      CASE WHEN f.is_disabled = 1 THEN N' DISABLED' WHEN f.is_not_trusted = 1 THEN N' NOT TRUSTED' ELSE N'' END)
        FROM user_tables AS t
        JOIN sys.foreign_keys AS f ON f.parent_object_id = t.object_id
        CROSS APPLY (
            SELECT STRING_AGG(pc.name, N', ') WITHIN GROUP (ORDER BY k.constraint_column_id) AS columns,
                   STRING_AGG(rc.name, N', ') WITHIN GROUP (ORDER BY k.constraint_column_id) AS referenced
            FROM sys.foreign_key_columns AS k
            JOIN sys.columns AS pc ON pc.object_id = k.parent_object_id AND pc.column_id = k.parent_column_id
            JOIN sys.columns AS rc ON rc.object_id = k.referenced_object_id AND rc.column_id = k.referenced_column_id
            WHERE k.constraint_object_id = f.object_id
        ) AS fc
        UNION ALL
        SELECT N'constraint',
               t.qualified + N'.' + CASE WHEN ck.is_system_named = 0 THEN ck.name ELSE N'CHECK ' + ck.definition END,
               N'CHECK ' + ck.definition + CASE WHEN ck.is_disabled = 1 THEN N' DISABLED' WHEN ck.is_not_trusted = 1 THEN N' NOT TRUSTED' ELSE N'' END
        FROM user_tables AS t
        JOIN sys.check_constraints AS ck ON ck.parent_object_id = t.object_id
        UNION ALL
        SELECT N'index', t.qualified + N'.' + i.name,
               CONCAT(CASE WHEN i.is_unique = 1 THEN N'UNIQUE ' ELSE N'' END, i.type_desc COLLATE DATABASE_DEFAULT, N' (', x.keys, N')',
                      CASE WHEN x.included IS NOT NULL THEN N' INCLUDE (' + x.included + N')' ELSE N'' END,
                      CASE WHEN i.has_filter = 1 THEN N' WHERE ' + i.filter_definition ELSE N'' END,
                      CASE WHEN i.is_disabled = 1 THEN N' DISABLED' ELSE N'' END)
        FROM user_tables AS t
        JOIN sys.indexes AS i ON i.object_id = t.object_id
        LEFT JOIN index_columns AS x ON x.object_id = i.object_id AND x.index_id = i.index_id
        WHERE i.index_id > 0 AND i.is_primary_key = 0 AND i.is_unique_constraint = 0 AND i.is_hypothetical = 0 AND i.name IS NOT NULL
        UNION ALL
        SELECT CASE o.type WHEN 'V' THEN N'view' WHEN 'P' THEN N'procedure' WHEN 'TR' THEN N'trigger' ELSE N'function' END,
               s.name + N'.' + o.name,
               ISNULL(m.definition, N'(definition not readable: encrypted, or VIEW DEFINITION not granted)')
        FROM sys.objects AS o
        JOIN user_schemas AS s ON s.schema_id = o.schema_id
        LEFT JOIN sys.sql_modules AS m ON m.object_id = o.object_id
        WHERE o.type IN ('V', 'P', 'FN', 'IF', 'TF', 'TR') AND o.is_ms_shipped = 0
        UNION ALL
        SELECT N'sequence', s.name + N'.' + q.name,
               CONCAT(TYPE_NAME(q.user_type_id), N' START ', CAST(q.start_value AS nvarchar(40)), N' INCREMENT ', CAST(q.increment AS nvarchar(40)),
                      N' MIN ', CAST(q.minimum_value AS nvarchar(40)), N' MAX ', CAST(q.maximum_value AS nvarchar(40)),
                      CASE WHEN q.is_cycling = 1 THEN N' CYCLE' ELSE N'' END,
                      CASE WHEN q.is_cached = 1 THEN CONCAT(N' CACHE ', q.cache_size) ELSE N' NO CACHE' END)
        FROM sys.sequences AS q JOIN user_schemas AS s ON s.schema_id = q.schema_id
        UNION ALL
        SELECT N'type', s.name + N'.' + ty.name,
               CASE WHEN ty.is_table_type = 1 THEN N'TABLE TYPE'
                    ELSE CONCAT(TYPE_NAME(ty.system_type_id), N' max_length ', ty.max_length, N' precision ', ty.precision, N' scale ', ty.scale,
                                CASE WHEN ty.is_nullable = 1 THEN N' NULL' ELSE N' NOT NULL' END) END
        FROM sys.types AS ty JOIN user_schemas AS s ON s.schema_id = ty.schema_id
        WHERE ty.is_user_defined = 1
        """;

    public static async Task<SchemaSnapshot> ReadAsync(SqlConnection connection, SqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(Query, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var objects = new List<SchemaObject>();
        var seen = new Dictionary<(string Kind, string Name), int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            // Module definitions keep their author's line endings; a restore or a checkout elsewhere may not.
            var definition = reader.IsDBNull(2) ? "" : reader.GetString(2).Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd();
            var (kind, name) = (reader.GetString(0), reader.GetString(1));
            // Two unnamed CHECK constraints with one definition on one table are named alike: number the second.
            var count = seen[(kind, name)] = seen.GetValueOrDefault((kind, name)) + 1;
            objects.Add(new SchemaObject(kind, count == 1 ? name : $"{name} #{count}", definition));
        }

        return new SchemaSnapshot(objects);
    }
}
