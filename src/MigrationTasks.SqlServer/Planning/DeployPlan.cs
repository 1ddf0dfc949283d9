using MigrationTasks.Diagnostics;
using MigrationTasks.Scripts;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>What a deploy against the baseline would do.</summary>
/// <param name="Script">DacFx's deploy script as generated (SQLCMD mode).</param>
/// <param name="ReportXml">DacFx's deploy report as generated.</param>
/// <param name="Report">The report, read.</param>
/// <param name="Batches">The script as plain T-SQL batches a client sends one by one: no SQLCMD syntax left.</param>
/// <param name="Findings">MIG401x findings: data loss, table rebuilds, NOT NULL columns without default, other alerts.</param>
public sealed record DeployPlan(
    string Script,
    string ReportXml,
    DeployReport Report,
    IReadOnlyList<ScriptStatement> Batches,
    IReadOnlyList<Diagnostic> Findings)
{
    public bool HasErrors => Findings.Any(f => f.IsError);
}
