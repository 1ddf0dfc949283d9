using MigrationTasks.Diagnostics;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>Connection-string handling that never lets the string (or its password) reach a message.</summary>
internal static class PostgresConnections
{
    public const string ApplicationName = "MigrationTasks";

    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The exception text can quote the offending value, which may be the password: it is not repeated.
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.InvalidConnectionString,
                "the connection string is not a valid Npgsql connection string (a keyword or value is not understood). " +
                "Use the form Host=…;Port=…;Database=…;Username=…;Password=…"));
        }

        // Each session is the tool's own: a pooled one could carry session settings of one migration into the next.
        builder.Pooling = false;
        builder.ApplicationName ??= ApplicationName;
        builder.IncludeErrorDetail = true;
        // A migration's CREATE INDEX or backfill, a backup's table scan and a restore may take hours: no client-side
        // timeout unless the connection string sets one (Npgsql's default of 30 s would cut them off).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Command Timeout") && !given.ContainsKey("CommandTimeout"))
        {
            builder.CommandTimeout = 0;
        }

        return builder;
    }

    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"{builder.Host ?? "localhost"}:{builder.Port}/{builder.Database ?? builder.Username ?? "postgres"}";
}
