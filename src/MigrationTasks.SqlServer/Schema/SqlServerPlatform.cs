using MigrationTasks.Diagnostics;
using Microsoft.SqlServer.Dac.Model;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>
/// The SQL Server version a project targets (<c>MigrationSqlServerVersion</c>): the DacFx model version and the
/// ScriptDom parser of the same syntax, so that the syntax check and the model agree on what is valid.
/// </summary>
public sealed class SqlServerPlatform
{
    public const string DefaultName = "Sql160";

    private static readonly SqlServerPlatform[] All =
    [
        new("Sql130", SqlServerVersion.Sql130, () => new TSql130Parser(true)),
        new("Sql140", SqlServerVersion.Sql140, () => new TSql140Parser(true)),
        new("Sql150", SqlServerVersion.Sql150, () => new TSql150Parser(true)),
        new("Sql160", SqlServerVersion.Sql160, () => new TSql160Parser(true)),
        new("Sql170", SqlServerVersion.Sql170, () => new TSql170Parser(true)),
        // Azure SQL Database runs the newest engine, so it gets the newest parser DacFx's version knows.
        new("AzureV12", SqlServerVersion.SqlAzure, () => new TSql170Parser(true)),
    ];

    private readonly Func<TSqlParser> _createParser;

    private SqlServerPlatform(string name, SqlServerVersion version, Func<TSqlParser> createParser)
    {
        Name = name;
        Version = version;
        _createParser = createParser;
    }

    public static SqlServerPlatform Default => Parse(DefaultName);

    /// <summary>Every platform's name, e.g. for the CLI's help.</summary>
    public static IReadOnlyList<string> Names => [.. All.Select(p => p.Name)];

    /// <summary>The property value, e.g. <c>Sql160</c>.</summary>
    public string Name { get; }

    public SqlServerVersion Version { get; }

    /// <summary>A new parser (parsers are not thread-safe), QUOTED_IDENTIFIER on as in SSDT.</summary>
    public TSqlParser CreateParser() => _createParser();

    /// <summary>
    /// The platform named <paramref name="name"/> (case-insensitive), or by an SSDT project's <c>DSP</c>
    /// (<c>Microsoft.Data.Tools.Schema.Sql.Sql130DatabaseSchemaProvider</c>); MIG1001 naming the valid ones otherwise.
    /// </summary>
    public static SqlServerPlatform Parse(string? name)
    {
        name = string.IsNullOrWhiteSpace(name) ? DefaultName : name.Trim();
        var platformName = FromSchemaProvider(name);
        return All.FirstOrDefault(p => p.Name.Equals(platformName, StringComparison.OrdinalIgnoreCase))
            ?? throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.InvalidOption,
                $"MigrationSqlServerVersion (or DSP) '{name}' is not a SQL Server version this package builds for; use one of {string.Join(", ", All.Select(p => p.Name))}."));
    }

    public override string ToString() => Name;

    /// <summary>Sql130 from SSDT's Microsoft.Data.Tools.Schema.Sql.Sql130DatabaseSchemaProvider; AzureV12 from SqlAzureV12…</summary>
    private static string FromSchemaProvider(string name)
    {
        const string Prefix = "Microsoft.Data.Tools.Schema.Sql.";
        const string Suffix = "DatabaseSchemaProvider";
        if (!name.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase))
        {
            return name;
        }

        var core = name[..^Suffix.Length];
        core = core.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? core[Prefix.Length..] : core;
        return core.Equals("SqlAzureV12", StringComparison.OrdinalIgnoreCase) ? "AzureV12" : core;
    }
}
