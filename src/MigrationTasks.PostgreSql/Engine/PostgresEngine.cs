using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Ephemeral;
using MigrationTasks.PostgreSql.Scripts;
using MigrationTasks.Schema;
using MigrationTasks.Scripts;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>The PostgreSQL engine: versioned migrations applied with Npgsql, history in <c>migrationtasks</c>.</summary>
public sealed class PostgresEngine : IMigrationEngine
{
    /// <summary>The <c>MigrationEngine</c> value, also recorded in the backups this engine takes.</summary>
    public const string EngineName = "PostgreSql";

    public string Name => EngineName;

    /// <summary>CREATE DATABASE copies template1, which holds the <c>public</c> schema and the <c>plpgsql</c> extension.</summary>
    public bool IsBuiltIn(SchemaObject item) =>
        (item.Kind == "schema" && item.Name == "public") || (item.Kind == "extension" && item.Name == "plpgsql");

    public PreparedScript Prepare(string path, string text)
    {
        IReadOnlyList<ScriptStatement> statements;
        try
        {
            statements = PostgresStatementSplitter.Split(text);
        }
        catch (ScriptSyntaxException e)
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.ScriptSyntax, e.Message, path, e.Line, e.Column));
        }

        var outsideTransactionReason = OutsideTransactionReason(path, text, statements);
        TransactionBlocks.RefuseUnended(path, statements, outsideTransactionReason);
        return new PreparedScript(path, text, statements, outsideTransactionReason);
    }

    public async Task<ITargetDatabase> ConnectAsync(string connectionString, CancellationToken cancellationToken) =>
        await PostgresDatabase.OpenAsync(PostgresConnections.Parse(connectionString), cancellationToken);

    public async Task<IEphemeralServer> StartEphemeralServerAsync(string dataDirectory, bool fresh, CancellationToken cancellationToken)
    {
        if (PostgresBinaries.FindBinDirectory() is null)
        {
            throw new EphemeralServerUnavailableException(
                $"no PostgreSQL server binaries (initdb, pg_ctl) in {PostgresBinaries.OverrideVariable}, on PATH or in /usr/lib/postgresql/<version>/bin");
        }

        try
        {
            if (fresh && Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }

            var cluster = fresh
                ? await EphemeralPostgresCluster.CreateAsync(dataDirectory, cancellationToken)
                : await EphemeralPostgresCluster.StartAsync(dataDirectory, cancellationToken);
            try
            {
                return await PostgresEphemeralServer.OpenAsync(cluster, cancellationToken);
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }
        catch (InvalidOperationException e)
        {
            throw new EphemeralServerUnavailableException(e.Message);
        }
    }

    private static string? OutsideTransactionReason(string path, string text, IReadOnlyList<ScriptStatement> statements) =>
        TransactionMode.OutsideTransactionReason(
            path,
            TransactionRules.HasNoTransactionMarker(text),
            TransactionRules.NoTransactionMarker,
            "statement",
            "statements",
            statements.Select(s => new TransactionMode.Statement(TransactionRules.WhyNotInTransaction(s), s.Line, s.Column)));
}
