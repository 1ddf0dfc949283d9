using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.PostgreSql.Ephemeral;
using MigrationTasks.PostgreSql.Scripts;
using MigrationTasks.Scripts;
using Npgsql;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>The PostgreSQL engine: versioned migrations applied with Npgsql, history in <c>migrationtasks</c>.</summary>
public sealed class PostgresEngine : IMigrationEngine
{
    public string Name => "PostgreSql";

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

        return new PreparedScript(path, text, statements, OutsideTransactionReason(path, text, statements));
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
            return new PostgresEphemeralServer(cluster);
        }
        catch (InvalidOperationException e)
        {
            throw new EphemeralServerUnavailableException(e.Message);
        }
    }

    /// <summary>
    /// A script runs in one transaction unless a statement cannot: then it must be made only of such statements, or
    /// carry the no-transaction marker, because a half-transactional file would leave an unknowable state on failure.
    /// </summary>
    private static string? OutsideTransactionReason(string path, string text, IReadOnlyList<ScriptStatement> statements)
    {
        if (TransactionRules.HasNoTransactionMarker(text))
        {
            return $"marked '{TransactionRules.NoTransactionMarker}'";
        }

        var blockers = statements
            .Select(s => (Statement: s, Reason: TransactionRules.WhyNotInTransaction(s)))
            .Where(s => s.Reason is not null)
            .ToList();
        if (blockers.Count == 0)
        {
            return null;
        }

        var first = blockers[0];
        if (blockers.Count == statements.Count)
        {
            return $"{first.Reason} at line {first.Statement.Line}";
        }

        throw new DiagnosticException(Diagnostic.Error(
            DiagnosticCodes.MixedTransactionMode,
            $"{first.Reason} cannot run inside a transaction, but this file also holds {statements.Count - blockers.Count} statement(s) that " +
            "should run in one. Nothing was run. Move it into a migration of its own, or add the line " +
            $"'{TransactionRules.NoTransactionMarker}' to run the whole file statement by statement without a transaction " +
            "(progress is recorded, and a failure leaves the statements before it applied).",
            path,
            first.Statement.Line,
            first.Statement.Column));
    }
}
