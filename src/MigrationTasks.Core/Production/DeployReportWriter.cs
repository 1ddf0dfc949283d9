using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MigrationTasks.Production;

/// <summary>
/// Writes report.json (for machines) and report.md (for people: the seed's flowchart in Mermaid with the path
/// taken coloured, then every step with its timing, the migrations, the backup and the findings).
/// </summary>
public static class DeployReportWriter
{
    public const string JsonName = "report.json";
    public const string MarkdownName = "report.md";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// Writes both files into <paramref name="directory"/>, each whole or not at all: to a temporary name first, then
    /// renamed over the old one, so that a full disk leaves the previous report rather than half of this one.
    /// </summary>
    public static void Write(DeployReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        WriteWhole(Path.Combine(directory, JsonName), JsonSerializer.Serialize(report, Json));
        WriteWhole(Path.Combine(directory, MarkdownName), Markdown(report));
    }

    private static void WriteWhole(string path, string text)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temporary, text);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    public static DeployReport Read(string path) =>
        JsonSerializer.Deserialize<DeployReport>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path} holds no deploy report");

    public static string Markdown(DeployReport report)
    {
        var text = new StringBuilder()
            .AppendLine($"# {Capitalised(report.Verb)} of {report.PackageId} {report.PackageVersion} to {report.Database}")
            .AppendLine()
            .AppendLine($"**{report.Outcome}** (exit code {report.ExitCode}) · started {report.Started:u} · " +
                        $"{Seconds((long)(report.Finished - report.Started).TotalMilliseconds)}" +
                        (report.AttemptId is { } attempt ? $" · deploy attempt `{attempt}`" : ""))
            .AppendLine()
            .AppendLine("## Path taken")
            .AppendLine()
            .AppendLine("```mermaid")
            .Append(Mermaid(report.Steps))
            .AppendLine("```")
            .AppendLine()
            .AppendLine("Green: passed · red: failed or refused · grey, dashed: skipped (the table says why) · white: not reached.")
            .AppendLine()
            .AppendLine("## Steps")
            .AppendLine()
            .AppendLine("| step | state | started (UTC) | took | detail |")
            .AppendLine("|---|---|---|---|---|");
        foreach (var step in report.Steps)
        {
            text.AppendLine($"| {step.Node} · {step.Title} | {step.State.ToString().ToLowerInvariant()} | {step.Started:HH:mm:ss} | {Seconds(step.DurationMs)} | {Cell(step.Detail)} |");
        }

        text.AppendLine().AppendLine("## Migrations").AppendLine();
        if (report.Migrations.Count == 0)
        {
            text.AppendLine("None ran on this run.");
        }
        else
        {
            text.AppendLine("| script | mode | state | statements | took |").AppendLine("|---|---|---|---|---|");
            foreach (var migration in report.Migrations)
            {
                text.AppendLine($"| `{migration.Script}` | {(migration.Transactional ? "one transaction" : "statement by statement")} | {migration.State} | " +
                                $"{migration.StatementsApplied}/{migration.StatementsTotal} | {Seconds(migration.DurationMs)} |");
            }
        }

        text.AppendLine().AppendLine("## Backup").AppendLine();
        text.AppendLine(report.Backup is { } backup
            ? $"`{backup.Id}` at `{backup.Path}` ({backup.Bytes:N0} bytes, {Seconds(backup.DurationMs)}); proof: {backup.Proof}. " +
              $"Restore it with `{backup.RestoreCommand}`."
            : "No backup was taken on this run.");
        if (report.LockWaits is { Count: > 0 } waits)
        {
            text.AppendLine().AppendLine("## Lock waits").AppendLine();
            foreach (var wait in waits)
            {
                text.AppendLine($"- {wait}");
            }
        }

        if (report.WritesSinceBackup is { Count: > 0 } writes)
        {
            text.AppendLine().AppendLine("## Written by others since the backup (a restore would discard it)").AppendLine();
            foreach (var write in writes)
            {
                text.AppendLine($"- {write}");
            }
        }

        if (report.Differences.Count > 0)
        {
            text.AppendLine().AppendLine("## Differences").AppendLine();
            foreach (var difference in report.Differences)
            {
                text.AppendLine($"- {difference}");
            }
        }

        if (report.Diagnostics.Count > 0)
        {
            text.AppendLine().AppendLine("## Diagnostics").AppendLine();
            foreach (var diagnostic in report.Diagnostics)
            {
                text.AppendLine($"- `{diagnostic.Code}` {diagnostic.Message}{(diagnostic.File is null ? "" : $" (`{diagnostic.File}`:{diagnostic.Line})")}");
            }
        }

        return text.ToString();
    }

    /// <summary>The flowchart with each visited node classed by its last state and labelled with its time.</summary>
    public static string Mermaid(IReadOnlyList<FlowStep> steps)
    {
        var last = steps.GroupBy(s => s.Node).ToDictionary(g => g.Key, g => g.Last());
        var text = new StringBuilder().AppendLine("flowchart TD");
        foreach (var (id, title, decision) in FlowChart.Nodes)
        {
            var label = last.TryGetValue(id, out var step) && step.DurationMs > 0 ? $"{title}<br/>{Seconds(step.DurationMs)}" : title;
            label = label.Replace("\"", "'", StringComparison.Ordinal);
            text.AppendLine(decision ? $"    {id}{{\"{label}\"}}" : $"    {id}[\"{label}\"]");
        }

        foreach (var (from, to, label) in FlowChart.Edges)
        {
            text.AppendLine(label is null ? $"    {from} --> {to}" : $"    {from} -->|{label}| {to}");
        }

        text.AppendLine("    classDef passed fill:#d3f9d8,stroke:#2b8a3e,stroke-width:2px")
            .AppendLine("    classDef failed fill:#ffe3e3,stroke:#c92a2a,stroke-width:2px")
            .AppendLine("    classDef skipped fill:#f1f3f5,stroke:#868e96,stroke-dasharray:4 3");
        foreach (var state in new[] { StepState.Passed, StepState.Failed, StepState.Skipped })
        {
            var nodes = last.Values.Where(s => s.State == state).Select(s => s.Node).ToList();
            if (nodes.Count > 0)
            {
                text.AppendLine($"    class {string.Join(',', nodes)} {state.ToString().ToLowerInvariant()}");
            }
        }

        return text.ToString();
    }

    private static string Seconds(long milliseconds) =>
        milliseconds < 1000
            ? string.Create(CultureInfo.InvariantCulture, $"{milliseconds} ms")
            : string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 1000.0:0.0} s");

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Capitalised(string verb) => verb.Length == 0 ? verb : char.ToUpperInvariant(verb[0]) + verb[1..];
}
