using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// The environment that connects pg_dump, pg_restore and psql to a database: libpq reads PGHOST, PGPASSWORD, … so
/// that no connection detail, and above all no password, ever appears on a command line (visible to every user in
/// the process list). Inherited PG* variables that would point the programs elsewhere are removed.
/// </summary>
internal sealed class ClientEnvironment
{
    // Files that Npgsql itself reads from the environment too: the programs see what the connection saw.
    private static readonly string[] PassedThrough = ["PGPASSFILE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSSLCRL"];

    private readonly string? _password;

    private ClientEnvironment(IReadOnlyDictionary<string, string?> variables, string? password)
    {
        Variables = variables;
        _password = password;
    }

    /// <summary>Every variable to set (null: remove) in the child's environment.</summary>
    public IReadOnlyDictionary<string, string?> Variables { get; }

    /// <param name="database">The database to reach (the connected one, or a copy beside it).</param>
    /// <param name="user">The login role, as the server reports it for the open connection.</param>
    public static ClientEnvironment For(NpgsqlConnectionStringBuilder settings, string database, string user, string program)
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (name.StartsWith("PG", StringComparison.Ordinal) && !PassedThrough.Contains(name))
            {
                variables[name] = null;
            }
        }

        var (hosts, ports) = HostsAndPorts(settings);
        variables["PGHOST"] = hosts;
        variables["PGPORT"] = ports;
        variables["PGDATABASE"] = database;
        variables["PGUSER"] = user;
        variables["PGAPPNAME"] = $"{PostgresConnections.ApplicationName} {program}";
        Set(variables, "PGPASSWORD", settings.Password);
        Set(variables, "PGPASSFILE", settings.Passfile);
        Set(variables, "PGSSLMODE", SslMode(settings.SslMode));
        Set(variables, "PGSSLROOTCERT", settings.RootCertificate);
        Set(variables, "PGSSLCERT", settings.SslCertificate);
        Set(variables, "PGSSLKEY", settings.SslKey);
        Set(variables, "PGCONNECT_TIMEOUT", settings.Timeout > 0 ? settings.Timeout.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        Set(variables, "PGOPTIONS", settings.Options);
        Set(variables, "PGTARGETSESSIONATTRS", settings.TargetSessionAttributes?.ToLowerInvariant());
        Set(variables, "PGKRBSRVNAME", settings.KerberosServiceName);
        return new ClientEnvironment(variables, settings.Password);
    }

    /// <summary>The same connection, to another database of the server.</summary>
    public ClientEnvironment ForDatabase(string database) =>
        new(new Dictionary<string, string?>(Variables) { ["PGDATABASE"] = database }, _password);

    /// <summary>Removes the password from a program's output before it goes into a message (libpq never prints it, but a message is no place to find out).</summary>
    public string Scrub(string text) =>
        string.IsNullOrEmpty(_password) ? text : text.Replace(_password, "********", StringComparison.Ordinal);

    public void ApplyTo(System.Diagnostics.ProcessStartInfo startInfo)
    {
        foreach (var (name, value) in Variables)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }
    }

    private static void Set(Dictionary<string, string?> variables, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            variables[name] = value;
        }
    }

    // Npgsql writes several hosts as "a:5433,b" with the port per host; libpq wants PGHOST=a,b and PGPORT=5433,5432.
    private static (string Hosts, string Ports) HostsAndPorts(NpgsqlConnectionStringBuilder settings)
    {
        var hosts = new List<string>();
        var ports = new List<string>();
        foreach (var entry in (settings.Host ?? "localhost").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (host, port) = SplitPort(entry);
            hosts.Add(host);
            ports.Add(port ?? settings.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return (string.Join(',', hosts), string.Join(',', ports));
    }

    private static (string Host, string? Port) SplitPort(string entry)
    {
        // A unix socket folder has no port; an IPv6 address has colons of its own and a port only after "]".
        if (entry.StartsWith('/'))
        {
            return (entry, null);
        }

        var colon = entry.LastIndexOf(':');
        var bracketed = entry.StartsWith('[');
        if (colon > 0 && (bracketed ? entry[colon - 1] == ']' : entry.IndexOf(':') == colon) && entry[(colon + 1)..].All(char.IsAsciiDigit) && colon + 1 < entry.Length)
        {
            return (entry[..colon].Trim('[', ']'), entry[(colon + 1)..]);
        }

        return (entry.Trim('[', ']'), null);
    }

    private static string? SslMode(Npgsql.SslMode mode) => mode switch
    {
        Npgsql.SslMode.Disable => "disable",
        Npgsql.SslMode.Allow => "allow",
        Npgsql.SslMode.Prefer => "prefer",
        Npgsql.SslMode.Require => "require",
        Npgsql.SslMode.VerifyCA => "verify-ca",
        Npgsql.SslMode.VerifyFull => "verify-full",
        _ => null,
    };
}
