using System.Data;
using System.Globalization;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>
/// Deletes a backup file the server wrote on its own disk: from this machine when it sees the same folder, else by
/// the server (xp_delete_file, sysadmin or a grant). Never throws for a file that stays: it says why instead, so that
/// the caller can name the file left behind.
/// </summary>
internal static class SqlServerBackupFileCleanup
{
    // xp_delete_file is undocumented (maintenance plans use it): 0 = a backup file, which it checks before deleting.
    internal const string DeleteSql = "EXEC master.sys.xp_delete_file 0, @path";

    internal const string FileExistsSql = "EXEC master.sys.xp_fileexist @path";

    /// <summary>Deletes the backup file; null when it is gone, else why it stays.</summary>
    public static async Task<string?> DeleteAsync(SqlConnection connection, string backupFile, bool serverMayDelete)
    {
        try
        {
            if (File.Exists(backupFile))
            {
                File.Delete(backupFile);
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!serverMayDelete)
            {
                return $"this machine could not delete it ({e.Message})";
            }
        }

        if (!serverMayDelete)
        {
            return "this machine does not see it and the login may not run xp_delete_file";
        }

        try
        {
            await SqlServerBackups.ExecuteAsync(connection, DeleteSql, null, backupFile, CancellationToken.None);
        }
        catch (SqlException e)
        {
            return $"xp_delete_file failed: {e.Number}: {e.Message}";
        }

        // xp_delete_file reports no error for a file it did not delete, so the server is asked whether it is gone.
        return await ServerSeesFileAsync(connection, backupFile) ? "xp_delete_file did not delete it" : null;
    }

    /// <summary>As <see cref="DeleteAsync"/>, for a file that may not exist: the session may also be gone.</summary>
    public static async Task<string?> DeleteQuietlyAsync(SqlConnection connection, string backupFile, bool serverMayDelete)
    {
        try
        {
            return connection.State == ConnectionState.Open || File.Exists(backupFile)
                ? await DeleteAsync(connection, backupFile, serverMayDelete)
                : "the session ended before it could be deleted";
        }
        catch (Exception e) when (e is InvalidOperationException or SqlException or IOException)
        {
            return e.Message;
        }
    }

    /// <summary>Whether the server still sees the file (xp_fileexist, undocumented like xp_delete_file); false when it cannot say.</summary>
    private static async Task<bool> ServerSeesFileAsync(SqlConnection connection, string path)
    {
        try
        {
            await using var command = new SqlCommand(FileExistsSql, connection);
            command.Parameters.Add(new SqlParameter("@path", SqlDbType.NVarChar, 4000) { Value = path });
            await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
            return await reader.ReadAsync(CancellationToken.None) && Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture) == 1;
        }
        catch (SqlException)
        {
            return false;
        }
    }
}
