using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Scripts;

/// <summary>
/// Which T-SQL statements SQL Server refuses inside a user transaction (error 226/574 and kin), so that a script
/// holding one runs batch by batch instead of failing half-way through a transaction it cannot be part of.
/// </summary>
public static class TSqlTransactionRules
{
    /// <summary>The line that asks for a script to run without a transaction: the same marker as for PostgreSQL.</summary>
    public const string NoTransactionMarker = "-- migrationtasks: no-transaction";

    /// <summary>Why <paramref name="statement"/> cannot run in a transaction, e.g. "ALTER DATABASE"; null when it can.</summary>
    public static string? WhyNotInTransaction(TSqlStatement statement) => statement switch
    {
        CreateDatabaseStatement => "CREATE DATABASE",
        AlterDatabaseStatement => "ALTER DATABASE",
        DropDatabaseStatement => "DROP DATABASE",
        BackupStatement => "BACKUP",
        RestoreStatement => "RESTORE",
        ReconfigureStatement => "RECONFIGURE",
        CreateFullTextCatalogStatement => "CREATE FULLTEXT CATALOG",
        AlterFullTextCatalogStatement => "ALTER FULLTEXT CATALOG",
        DropFullTextCatalogStatement => "DROP FULLTEXT CATALOG",
        CreateFullTextIndexStatement => "CREATE FULLTEXT INDEX",
        AlterFullTextIndexStatement => "ALTER FULLTEXT INDEX",
        DropFullTextIndexStatement => "DROP FULLTEXT INDEX",
        _ => null,
    };

    /// <summary>True when a line of the script, trimmed, is <see cref="NoTransactionMarker"/> (in any letter case).</summary>
    public static bool HasNoTransactionMarker(string text) =>
        text.Split('\n').Any(line => line.Trim().Equals(NoTransactionMarker, StringComparison.OrdinalIgnoreCase));
}
