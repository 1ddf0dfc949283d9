namespace MigrationTasks.PostgreSql.Engine;

/// <summary>Text as a SQL string literal, for the SQL that is written out for psql rather than sent with parameters.</summary>
internal static class SqlLiteral
{
    /// <summary>An escape string literal: it means the same whatever standard_conforming_strings is.</summary>
    public static string Of(string value) =>
        "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
}
