using System.Text;
using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using MigrationTasks.Scripts;
using MigrationTasks.SqlServer.Schema;
using MigrationTasks.SqlServer.Scripts;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// Turns DacFx's deploy script, written for SQLCMD mode, into plain T-SQL batches that any client can send one by
/// one (SqlClient knows neither <c>GO</c> nor <c>:setvar</c>):
/// <list type="bullet">
/// <item><c>:setvar NAME "value"</c> lines are read and removed; <c>$(DatabaseName)</c> and <c>$(DefaultFilePrefix)</c>
/// take MigrationDatabaseName, every other <c>$(NAME)</c> its <c>:setvar</c> value; an unknown one is MIG5021.</item>
/// <item><c>:on error exit</c> is removed: the runner stops at the first failing batch anyway.</item>
/// <item>The batch that detects SQLCMD mode (<c>$(__IsSqlCmdEnabled)</c>, which would <c>SET NOEXEC ON</c>) and
/// <c>USE [$(DatabaseName)]</c> are removed: the runner is connected to the database it deploys.</item>
/// <item>Any other SQLCMD command (<c>:r</c>, <c>:connect</c>, <c>!!</c>…) is MIG5021 at its line: it cannot be
/// run by a client, and guessing would deploy something else than was reviewed.</item>
/// </list>
/// The batches are split with ScriptDom, so a <c>GO</c> inside a comment or string is not a separator.
/// </summary>
public static partial class DeployScriptBatches
{
    public static (string Text, IReadOnlyList<ScriptStatement> Batches) ToBatches(string script, string databaseName, string sourceName, SqlServerPlatform platform)
    {
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<Diagnostic>();
        var lines = script.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (SetVar().Match(line) is { Success: true } setVar)
            {
                variables[setVar.Groups["name"].Value] = setVar.Groups["value"].Value;
                lines[i] = "";
            }
            else if (line.Equals(":on error exit", StringComparison.OrdinalIgnoreCase))
            {
                lines[i] = "";
            }
            else if (line.StartsWith(':') || line.StartsWith("!!", StringComparison.Ordinal))
            {
                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.SqlCmdNotSupported,
                    $"the deploy script holds the SQLCMD command '{line}', which a release cannot run (only :setvar and :on error exit are handled). " +
                    "Write the pre- or post-deployment script in plain T-SQL.",
                    sourceName,
                    i + 1,
                    1));
            }
        }

        // The database the runner connects to is the one deployed, whatever name the dacpac was built with.
        variables["DatabaseName"] = databaseName;
        variables["DefaultFilePrefix"] = databaseName;
        ThrowIfAny(problems);

        var plain = string.Join('\n', lines);
        var (parsed, errors) = TSqlScriptParser.Parse(platform, sourceName, plain);
        if (parsed is null)
        {
            throw new DiagnosticException(errors);
        }

        var kept = new List<string>();
        foreach (var batch in parsed.Batches.Where(b => b.Statements.Count > 0))
        {
            var text = plain.Substring(batch.StartOffset, batch.FragmentLength);
            if (text.Contains("$(__IsSqlCmdEnabled)", StringComparison.Ordinal)
                || (batch.Statements is [UseStatement] && text.Contains("$(DatabaseName)", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var line = batch.StartLine;
            kept.Add(Variable().Replace(text, match =>
            {
                var name = match.Groups["name"].Value;
                if (variables.TryGetValue(name, out var value))
                {
                    return value;
                }

                problems.Add(Diagnostic.Error(
                    DiagnosticCodes.SqlCmdNotSupported,
                    $"the deploy script uses the SQLCMD variable $({name}), which no :setvar defines: a release cannot know its value. " +
                    "Write the value into the pre- or post-deployment script.",
                    sourceName,
                    line,
                    1));
                return match.Value;
            }));
        }

        ThrowIfAny(problems);
        var result = new StringBuilder();
        foreach (var batch in kept)
        {
            result.Append(batch.TrimEnd()).Append("\nGO\n\n");
        }

        var output = result.ToString();
        var (script2, errors2) = TSqlScriptParser.Parse(platform, sourceName, output);
        if (script2 is null)
        {
            throw new DiagnosticException(errors2);
        }

        return (output, TSqlScriptParser.Batches(script2, output));
    }

    private static void ThrowIfAny(List<Diagnostic> problems)
    {
        if (problems.Count > 0)
        {
            throw new DiagnosticException(problems);
        }
    }

    [GeneratedRegex("""^:setvar\s+(?<name>\w+)\s+"(?<value>[^"]*)"\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex SetVar();

    [GeneratedRegex(@"\$\((?<name>\w+)\)")]
    private static partial Regex Variable();
}
