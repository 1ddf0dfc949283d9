using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MigrationTasks.Staging;

/// <summary>Writes staging-report.json and staging-report.md.</summary>
public static class StagingReportWriter
{
    public const string JsonName = "staging-report.json";
    public const string MarkdownName = "staging-report.md";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static void Write(StagingReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, JsonName), JsonSerializer.Serialize(report, Json));
        File.WriteAllText(Path.Combine(directory, MarkdownName), Markdown(report));
    }

    public static StagingReport Read(string path) =>
        JsonSerializer.Deserialize<StagingReport>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path} holds no staging report");

    private static string Markdown(StagingReport report)
    {
        var text = new StringBuilder()
            .AppendLine($"# Staging report: {report.Database}")
            .AppendLine()
            .AppendLine($"{report.Started:u} · {(report.Clean ? "**no findings**" : $"**{report.Findings.Count} finding(s)**")}")
            .AppendLine()
            .AppendLine($"Applied on staging: {(report.AppliedVersions.Count == 0 ? "nothing" : string.Join(", ", report.AppliedVersions))}. ")
            .AppendLine($"Pending: {(report.PendingScripts.Count == 0 ? "nothing" : string.Join(", ", report.PendingScripts))}.")
            .AppendLine()
            .AppendLine("## Drift")
            .AppendLine();
        Lines(text, report.Drift, "Staging's schema is what its history should have produced.");
        text.AppendLine().AppendLine("## Checks").AppendLine();
        Lines(text, report.Checks.Select(c => c.Passed ? $"passed: `{c.Path}`" : $"**failed**: `{c.Path}`: {c.Message}").ToList(), "No checks.");
        text.AppendLine().AppendLine("## Rehearsal").AppendLine();
        text.AppendLine(report.Rehearsal is { } rehearsal
            ? $"{rehearsal.Scripts.Count} migration(s) {rehearsal.Where}: {(rehearsal.Failure is null ? "all applied" : "**failed**: " + rehearsal.Failure)} in {rehearsal.DurationMs} ms."
            : "Nothing pending.");
        if (!report.Clean)
        {
            text.AppendLine().AppendLine("## Findings").AppendLine();
            Lines(text, report.Findings.Select(f => $"`{f.Code}` {f.Message}{(f.File is null ? "" : $" ({f.File}:{f.Line})")}").ToList(), "");
        }

        return text.ToString();
    }

    private static void Lines(StringBuilder text, IReadOnlyList<string> lines, string whenEmpty)
    {
        if (lines.Count == 0)
        {
            text.AppendLine(whenEmpty);
        }

        foreach (var line in lines)
        {
            text.AppendLine($"- {line}");
        }
    }
}
