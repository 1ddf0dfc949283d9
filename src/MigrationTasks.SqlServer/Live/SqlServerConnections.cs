using System.Data.Common;
using MigrationTasks.Diagnostics;
using Microsoft.Data.SqlClient;

namespace MigrationTasks.SqlServer.Live;

/// <summary>Connection-string handling that never lets the string (or its password) reach a message.</summary>
internal static class SqlServerConnections
{
    public const string ApplicationName = "MigrationTasks";

    /// <summary>
    /// How long opening a connection may take unless the string says otherwise. SqlClient's own default is 15 s too;
    /// it is set explicitly because the connection check before any DacFx call relies on it (DacFx retries for minutes).
    /// </summary>
    public const int DefaultConnectTimeoutSeconds = 15;

    private static readonly string[] ConnectTimeoutKeywords = ["Connect Timeout", "Connection Timeout", "Timeout"];
    private static readonly string[] CommandTimeoutKeywords = ["Command Timeout"];

    public static SqlConnectionStringBuilder Parse(string connectionString)
    {
        SqlConnectionStringBuilder builder;
        DbConnectionStringBuilder given;
        try
        {
            given = new DbConnectionStringBuilder { ConnectionString = connectionString };
            builder = new SqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or OverflowException)
        {
            // The exception text can quote the offending value, which may be the password: it is not repeated.
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.InvalidConnectionString,
                "the connection string is not a valid SQL Server (Microsoft.Data.SqlClient) connection string (a keyword or value is not understood). " +
                "Use the form Server=…;Database=…;User ID=…;Password=…;Encrypt=… or Server=…;Database=…;Authentication=Active Directory Default"));
        }

        // Each session is the tool's own: a pooled one could carry session settings (SET options, EXECUTE AS,
        // temp tables) of one migration into the next, and closing a connection must really end its session.
        builder.Pooling = false;
        if (!given.ContainsKey("Application Name") && !given.ContainsKey("App"))
        {
            builder.ApplicationName = ApplicationName;
        }

        if (!ConnectTimeoutKeywords.Any(given.ContainsKey))
        {
            builder.ConnectTimeout = DefaultConnectTimeoutSeconds;
        }

        // A migration's index build, a backup and a restore may take hours: no client-side timeout unless the
        // connection string sets one (SqlClient's default of 30 s would cut them off).
        if (!CommandTimeoutKeywords.Any(given.ContainsKey))
        {
            builder.CommandTimeout = 0;
        }

        return builder;
    }

    /// <summary>Server and database, e.g. <c>db.example.com,1433/shop</c>: never the user or the password.</summary>
    public static string Describe(SqlConnectionStringBuilder builder, string? actualDatabase = null)
    {
        var server = builder.DataSource;
        foreach (var prefix in new[] { "tcp:", "np:", "lpc:", "admin:" })
        {
            if (server.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                server = server[prefix.Length..];
            }
        }

        if (server.Length == 0)
        {
            server = "localhost";
        }

        var database = actualDatabase ?? (builder.InitialCatalog.Length > 0 ? builder.InitialCatalog : "(default database)");
        return $"{server}/{database}";
    }

    /// <summary>The same server, another database (master for restores and locks, a shadow, a copy).</summary>
    public static SqlConnectionStringBuilder ForDatabase(SqlConnectionStringBuilder builder, string database, string? applicationSuffix = null)
    {
        var other = new SqlConnectionStringBuilder(builder.ConnectionString) { InitialCatalog = database };
        if (applicationSuffix is not null)
        {
            other.ApplicationName = $"{builder.ApplicationName} {applicationSuffix}";
        }

        return other;
    }

    /// <summary>
    /// The program_name prefix of the production runner's migration sessions (see
    /// <see cref="SqlServerDatabase.EndOrphanedDeploySessionsAsync"/>), whatever Application Name the string sets:
    /// unlike the lock session's ("… deploy lock"), which another runner may hold or wait with.
    /// </summary>
    public const string DeploySessionPrefix = ApplicationName + " migrate ";

    /// <summary>SQL Server keeps at most 128 characters of a program name (sys.dm_exec_sessions.program_name).</summary>
    private const int ProgramNameLength = 128;

    /// <summary>
    /// "MigrationTasks migrate &lt;deploy id&gt; (&lt;host&gt;)" for a session of the production runner (a deploy id
    /// is set), so that a later run, holding the deploy lock, can tell the sessions of a runner that died
    /// mid-statement from the application's; null outside a deploy.
    /// </summary>
    public static string? DeploySessionName(string? deployId, string host) =>
        deployId is null ? null : Truncate($"{DeploySessionPrefix}{deployId} ({host})", ProgramNameLength);

    /// <summary>The same connection, its session named <paramref name="applicationName"/> (when not null).</summary>
    public static SqlConnectionStringBuilder Named(SqlConnectionStringBuilder builder, string? applicationName) =>
        applicationName is null ? builder : new SqlConnectionStringBuilder(builder.ConnectionString) { ApplicationName = applicationName };

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    /// <summary>
    /// A server message with the connection's password taken out, should a driver or server ever quote it
    /// (SqlClient's messages do not, but a message is cheap to check and a leaked password is not).
    /// </summary>
    public static string Redact(string message, SqlConnectionStringBuilder builder)
    {
        var password = builder.Password;
        return string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);
    }

    /// <summary>A T-SQL identifier in brackets, <c>]</c> doubled, as QUOTENAME does: for names that cannot be parameters.</summary>
    public static string QuoteName(string name)
    {
        if (name.Length > 128)
        {
            throw new ArgumentException($"'{name[..20]}…' is longer than the 128 characters a SQL Server name may have.", nameof(name));
        }

        return "[" + name.Replace("]", "]]", StringComparison.Ordinal) + "]";
    }

    /// <summary>A Unicode T-SQL string literal, quotes doubled.</summary>
    public static string Literal(string value) => "N'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
