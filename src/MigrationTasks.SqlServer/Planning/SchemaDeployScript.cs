using System.Text;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Migrations;
using MigrationTasks.Scripts;
using MigrationTasks.SqlServer.Engine;
using MigrationTasks.SqlServer.Live;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.SqlServer.Scripts;
using Microsoft.Data.SqlClient;
using Microsoft.SqlServer.Dac;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// A SQL Server project's deploy as one script that the migration runner applies like a repeatable migration named
/// <see cref="FileName"/>: DacFx's deploy script of the project's dacpac, as plain T-SQL batches. The same runner
/// applies it everywhere (one transaction with XACT_ABORT when every batch allows it, history, deploy lock), so the
/// dev deploy at build exercises the path production takes. Against a live database (the dev deploy) DacFx reads the
/// target's model; against the baseline dacpac (the staging rehearsal, the release package) it runs offline.
/// </summary>
public static class SchemaDeployScript
{
    /// <summary>A repeatable script: each deploy's script is the difference from the target to Schema/, applied once per change.</summary>
    public const string FileName = "R__deploy.sql";

    /// <param name="Dacpac">The dacpac <c>dotnet build</c> wrote from Schema/.</param>
    /// <param name="AllowDataLoss">MigrationAllowDataLoss: otherwise DacFx's script stops before dropping data from a table with rows.</param>
    /// <param name="WorkDirectory">Where the script file is written (the project's obj/ state folder), so that a failure points at a file.</param>
    public sealed record Options(string Dacpac, bool AllowDataLoss, SqlServerPlatform Platform, string WorkDirectory);

    /// <summary>
    /// The deploy script of the dacpac against the live database, written to the work folder and prepared. DacFx
    /// connects itself (after <see cref="SqlServerDatabase.OpenAsync"/>'s short connection check passed), reads the
    /// target's model and compares; MigrationTasks' history table is kept.
    /// </summary>
    public static async Task<(MigrationFile File, PreparedScript Script)> AgainstDatabaseAsync(
        ITargetDatabase database, Options options, Reporter reporter, CancellationToken cancellationToken)
    {
        if (database is not SqlServerDatabase target)
        {
            throw new ArgumentException($"{database.DisplayName} is not a SQL Server database opened by this engine.", nameof(database));
        }

        // The history table first: the dacpac below holds it, so the plan must find it there already.
        var withDeploysTable = await target.EnsureHistoryAsync(cancellationToken);
        string? source = null;
        string script;
        try
        {
            source = HistorySchemaKeeper.WithLiveHistory(options.Dacpac, options.WorkDirectory, withDeploysTable);
            using var package = DacPackage.Load(source);
            script = await Task.Run(
                () => target.DacServices().GenerateDeployScript(package, target.Name, SqlServerPlanner.DeployOptions(options.AllowDataLoss), cancellationToken),
                cancellationToken);
        }
        catch (Exception e) when (e is DacServicesException or DacModelException or SqlException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.SchemaDeployScriptFailed,
                $"DacFx cannot compare the dacpac with {database.DisplayName}: {target.Redact(Cause(e))} " +
                "Check that the login may read the database's definition (VIEW DEFINITION) and that the server's version is one the dacpac targets " +
                "(MigrationSqlServerVersion). Nothing was changed on the database.",
                options.Dacpac));
        }
        finally
        {
            if (source is not null && File.Exists(source))
            {
                File.Delete(source);
            }
        }

        var (_, batches) = DeployScriptBatches.ToBatches(script, target.Name, options.Dacpac, options.Platform);
        reporter.Info($"Deploy script of {Path.GetFileName(options.Dacpac)} against {database.DisplayName}: {batches.Count} batch(es).");
        // Generated from the live state, so it is applied whenever it is generated, even if its text equals the last
        // one's (the database may have gone back to the state that script started from): its header carries the time.
        return Write(Text(batches), $"DacFx's deploy script of {Path.GetFileName(options.Dacpac)} against {database.DisplayName}, generated {DateTimeOffset.UtcNow:u}", options, reporter);
    }

    /// <summary>
    /// The database name when the script names it (<c>[Shop]</c> or <c>'Shop'</c>, as <c>$(DatabaseName)</c> resolves):
    /// the deploy then refuses a database of another name. A table or schema of the same name counts too: a refusal
    /// that says to set MigrationDatabaseName is cheaper than a script that changes another database.
    /// </summary>
    public static string? NamedDatabase(string script, string databaseName) =>
        script.Contains($"[{databaseName.Replace("]", "]]", StringComparison.Ordinal)}]", StringComparison.OrdinalIgnoreCase)
        || script.Contains($"'{databaseName.Replace("'", "''", StringComparison.Ordinal)}'", StringComparison.OrdinalIgnoreCase)
            ? databaseName
            : null;

    /// <summary>DacFx's own messages (a DacServicesException's message is often only "could not deploy"), then the inner cause.</summary>
    private static string Cause(Exception e)
    {
        var messages = e is DacServicesException dac ? dac.Messages.Select(m => m.ToString()).ToList() : [];
        messages.Insert(0, e.Message);
        if (e.InnerException is { } inner)
        {
            messages.Add(inner.Message);
        }

        return string.Join(" ", messages.Distinct(StringComparer.Ordinal));
    }

    /// <summary>An offline plan's script (against the baseline dacpac), written to the work folder and prepared.</summary>
    public static (MigrationFile File, PreparedScript Script) FromPlan(DeployPlan plan, string description, Options options, Reporter reporter) =>
        Write(Text(plan.Batches), description, options, reporter);

    /// <summary>The batches, each followed by GO: what the runner splits again, batch for batch.</summary>
    public static string Text(IEnumerable<ScriptStatement> batches)
    {
        var text = new StringBuilder();
        foreach (var batch in batches)
        {
            text.Append(batch.Text.TrimEnd()).Append("\nGO\n\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// The script's text as the runner will prepare it, and why it runs outside a transaction (null when it runs in
    /// one). DacFx writes a statement SQL Server refuses inside a transaction (a full-text catalog or index) into the
    /// same script as everything else; the runner refuses a file that mixes both (MIG2005) unless it carries the
    /// no-transaction marker, so such a script gets the marker and runs batch by batch (and a failure in production
    /// then means restoring the backup, as plan.md says).
    /// </summary>
    public static (string Text, PreparedScript Script, string? OutsideTransaction) Prepare(string path, string header, string batches, SqlServerPlatform platform, Reporter reporter)
    {
        var engine = new SqlServerEngine(platform);
        var text = header + batches;
        try
        {
            var prepared = engine.Prepare(path, text);
            return (text, prepared, prepared.OutsideTransactionReason);
        }
        catch (DiagnosticException mixed) when (mixed.Diagnostics.Any(d => d.Code == DiagnosticCodes.MixedTransactionMode))
        {
            var marked = header + "-- A statement of this script cannot run in a transaction (see plan.md): it runs batch by batch, each batch committing on its own.\n" +
                         TSqlTransactionRules.NoTransactionMarker + "\n" + batches;
            var blocker = FirstStatementOutsideTransaction(platform, path, marked) ?? mixed.Diagnostics[0].Message;
            reporter.Info($"{Path.GetFileName(path)} holds {blocker}, which SQL Server cannot run inside a transaction: it is marked " +
                          $"'{TSqlTransactionRules.NoTransactionMarker}' and runs batch by batch.");
            return (marked, engine.Prepare(path, marked), blocker);
        }
    }

    /// <summary>The first statement of the script that cannot run in a transaction, e.g. "CREATE FULLTEXT CATALOG (batch 3, line 9)".</summary>
    private static string? FirstStatementOutsideTransaction(SqlServerPlatform platform, string path, string text)
    {
        var (script, _) = TSqlScriptParser.Parse(platform, path, text);
        var batches = script?.Batches.Where(b => b.Statements.Count > 0).ToList() ?? [];
        for (var i = 0; i < batches.Count; i++)
        {
            foreach (var statement in batches[i].Statements)
            {
                if (TSqlTransactionRules.WhyNotInTransaction(statement) is { } why)
                {
                    return $"{why} (batch {i + 1}, line {statement.StartLine})";
                }
            }
        }

        return null;
    }

    private static (MigrationFile File, PreparedScript Script) Write(string batches, string description, Options options, Reporter reporter)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        var path = Path.Combine(Path.GetFullPath(options.WorkDirectory), FileName);
        var header = $"-- {description} (allowDataLoss: {(options.AllowDataLoss ? "true" : "false")}).\n";
        var (text, script, _) = Prepare(path, header, batches, options.Platform, reporter);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return (MigrationFile.Load(path), script);
    }
}
