using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using MigrationTasks.Scripts;
using MigrationTasks.SqlServer.Live;
using MigrationTasks.SqlServer.Planning;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.SqlServer.Scripts;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Engine;

/// <summary>
/// The SQL Server engine. Offline it splits T-SQL scripts with ScriptDom and builds dacpacs (see
/// <see cref="DacpacBuilder"/>); online it applies migrations, runs tests, backs up and restores through
/// <see cref="SqlServerDatabase"/> (SqlClient). It starts no throwaway server yet.
/// </summary>
public sealed class SqlServerEngine(SqlServerPlatform? platform = null) : IMigrationEngine
{
    private readonly SqlServerPlatform _platform = platform ?? SqlServerPlatform.Default;

    /// <summary>The <c>MigrationEngine</c> value, also recorded in the backups this engine takes.</summary>
    public const string EngineName = "SqlServer";

    public string Name => EngineName;

    /// <summary>None: the schema reader already leaves out what a new database has (dbo, sys, the fixed roles' schemas).</summary>
    public bool IsBuiltIn(SchemaObject item) => false;

    /// <summary>
    /// Splits the script into its GO batches; every syntax error of the file is reported (MIG2010), and a script run
    /// batch by batch that leaves a BEGIN TRANSACTION of its own open is refused (MIG2027).
    /// </summary>
    public PreparedScript Prepare(string path, string text)
    {
        var (script, errors) = TSqlScriptParser.Parse(_platform, path, text);
        if (script is null)
        {
            throw new DiagnosticException(errors);
        }

        var batches = TSqlScriptParser.Batches(script, text);
        var outsideTransactionReason = OutsideTransactionReason(path, text, script);
        TSqlTransactionBlocks.RefuseUnended(path, script, outsideTransactionReason);
        return new PreparedScript(path, text, batches, outsideTransactionReason);
    }

    /// <summary>
    /// Opens the database with SqlClient: the connection check (15 s connect timeout unless the string sets one)
    /// that must pass before any DacFx call. MIG1003/MIG1004 never repeat the connection string.
    /// </summary>
    public async Task<ITargetDatabase> ConnectAsync(string connectionString, CancellationToken cancellationToken) =>
        await SqlServerDatabase.OpenAsync(SqlServerConnections.Parse(connectionString), cancellationToken);

    public Task<IEphemeralServer> StartEphemeralServerAsync(string dataDirectory, bool fresh, CancellationToken cancellationToken) =>
        throw new EphemeralServerUnavailableException(
            "a throwaway SQL Server runs in a container, and this version of MigrationTasks does not start one yet");

    /// <summary>A project with Schema/: its dacpac is the model, and DacFx's script of it is every deploy.</summary>
    public IModelProject OpenModelProject(ModelProjectOptions options) => new SqlServerModelProject(options);

    /// <summary>A <c>.dacpac</c> output: production's schema extracted by DacFx (no table data), read-only.</summary>
    public async Task<string?> TryExportModelBaselineAsync(string connectionString, string outputPath, CancellationToken cancellationToken)
    {
        if (!outputPath.EndsWith(".dacpac", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var database = await BaselineDacpacExporter.ExportAsync(connectionString, outputPath, cancellationToken);
        return $"Baseline of {database}: written to {Path.GetFullPath(outputPath)} (a dacpac, no table data; model hash " +
               $"{DacpacModelHash.Of(outputPath, DiagnosticCodes.BaselineModelUnreadable)}). Set MigrationBaseline to this file to plan releases for this database.";
    }

    /// <summary>
    /// A script runs in one transaction unless a statement cannot (ALTER DATABASE, BACKUP, full-text catalogs…):
    /// then every batch must be such a statement, or the file carries the no-transaction marker (MIG2005 otherwise).
    /// </summary>
    private static string? OutsideTransactionReason(string path, string text, TSqlScript script) =>
        TransactionMode.OutsideTransactionReason(
            path,
            TSqlTransactionRules.HasNoTransactionMarker(text),
            TSqlTransactionRules.NoTransactionMarker,
            "batch",
            "batches",
            script.Batches.SelectMany(b => b.Statements)
                .Select(s => new TransactionMode.Statement(TSqlTransactionRules.WhyNotInTransaction(s), s.StartLine, s.StartColumn)));
}
