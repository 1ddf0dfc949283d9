using MigrationTasks.Diagnostics;
using Microsoft.SqlServer.Dac.CodeAnalysis;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>
/// DacFx's code analysis (the SR rules SSDT runs) over a valid model: each problem a MIG2012 warning at
/// file(line,col) with the rule id first in its message, an error when the project promotes the rule.
/// </summary>
internal static class SchemaCodeAnalysis
{
    public static IReadOnlyList<Diagnostic> Run(TSqlModel model, CodeAnalysisRules rules)
    {
        if (rules.DisablesEverything)
        {
            return [];
        }

        var service = new CodeAnalysisServiceFactory().CreateAnalysisService(model, new CodeAnalysisServiceSettings());
        var known = service.GetRules().ToList();
        var unmatched = rules.Unmatched(known.Select(r => (r.RuleId, r.ShortRuleId)).ToList());
        if (unmatched.Count > 0)
        {
            throw new DiagnosticException(Diagnostic.Error(
                DiagnosticCodes.InvalidOption,
                $"MigrationCodeAnalysisRules names {string.Join(", ", unmatched)}, which is no code analysis rule; the rules are " +
                $"{string.Join(", ", known.Select(r => r.ShortRuleId))}."));
        }

        var disabled = known.Where(r => rules.ActionFor(r.RuleId, r.ShortRuleId) == CodeAnalysisRuleAction.Disabled).ToList();
        if (disabled.Count == known.Count)
        {
            return [];
        }

        // Disabled rules do not run at all: analysis is the slow part of a small project's build.
        var settings = new CodeAnalysisRuleSettings();
        foreach (var rule in disabled)
        {
            settings.DisableRule(rule.RuleId);
        }

        service.ApplyRuleSettings(settings);
        var result = service.Analyze(model);
        if (!result.AnalysisSucceeded)
        {
            return result.GetAllErrors()
                .Select(e => Diagnostic.Error(DiagnosticCodes.ModelNotWritten, $"code analysis could not run: {e.Message}", e.Document, e.Line, e.Column))
                .DefaultIfEmpty(Diagnostic.Error(DiagnosticCodes.ModelNotWritten, "code analysis could not run, and DacFx gave no reason."))
                .ToList();
        }

        return result.Problems
            .Where(p => rules.ActionFor(p.RuleId, p.ShortRuleId) != CodeAnalysisRuleAction.Disabled)
            .Select(p => rules.ActionFor(p.RuleId, p.ShortRuleId) == CodeAnalysisRuleAction.Error
                ? Diagnostic.Error(DiagnosticCodes.CodeAnalysisProblem, $"{p.ShortRuleId}: {p.Description} (an error by MigrationCodeAnalysisRules)", p.SourceName, p.StartLine, p.StartColumn)
                : Diagnostic.Warning(DiagnosticCodes.CodeAnalysisProblem, $"{p.ShortRuleId}: {p.Description}", p.SourceName, p.StartLine, p.StartColumn))
            .ToList();
    }
}
