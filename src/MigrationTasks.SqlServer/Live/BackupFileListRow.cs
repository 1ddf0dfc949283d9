using System.Data;
using System.Globalization;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>One row of RESTORE FILELISTONLY: a database file as the backup recorded it, its type (D, L, S or F) and its FileId.</summary>
internal sealed record BackupFileListRow(string LogicalName, string Type, long FileId)
{
    internal const string Sql = "RESTORE FILELISTONLY FROM DISK = @path";

    /// <summary>RESTORE FILELISTONLY of <paramref name="backupFile"/> (a path on the server): every file the backup holds.</summary>
    public static async Task<IReadOnlyList<BackupFileListRow>> ReadAsync(SqlConnection connection, string backupFile, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(Sql, connection) { CommandTimeout = 0 };
        command.Parameters.Add(new SqlParameter("@path", SqlDbType.NVarChar, 4000) { Value = backupFile });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        int logical = reader.GetOrdinal("LogicalName"), type = reader.GetOrdinal("Type"), id = reader.GetOrdinal("FileId");
        var files = new List<BackupFileListRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            files.Add(new BackupFileListRow(
                reader.GetString(logical),
                reader.GetString(type).Trim(),
                Convert.ToInt64(reader.GetValue(id), CultureInfo.InvariantCulture)));
        }

        return files;
    }
}
