using Npgsql;
using NpgsqlTypes;

namespace MigrationTasks.PostgreSql.Engine;

/// <summary>
/// Commands that send a script's statement to the server exactly as the splitter cut it.
/// </summary>
/// <remarks>
/// Npgsql parses the text of a command that has no parameters and cuts it at each semicolon it takes to be outside
/// quotes. Its parser does not know SQL-standard function bodies (npgsql/npgsql#4445), so it would cut
/// <c>CREATE FUNCTION f() ... BEGIN ATOMIC SELECT 1; SELECT 2; END</c> apart: a batch command then throws
/// NotSupportedException and a plain command sends the pieces as separate statements. The splitter has already cut
/// the script where psql does, so Npgsql must not cut again. A command with a positional parameter is sent as it is
/// written; turning SQL rewriting off instead (the Npgsql.EnableSqlRewriting switch) would change every command of
/// the process. The parameter is a typed NULL that no statement refers to, as psql offers none either.
/// </remarks>
internal static class VerbatimSql
{
    public static NpgsqlBatchCommand BatchCommand(string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(UnusedParameter());
        return command;
    }

    public static NpgsqlCommand Command(string sql, NpgsqlConnection connection, NpgsqlTransaction? transaction = null)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(UnusedParameter());
        return command;
    }

    // Typed, because the server refuses a parameter whose type it cannot determine, even an unused one.
    private static NpgsqlParameter UnusedParameter() => new() { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer };
}
