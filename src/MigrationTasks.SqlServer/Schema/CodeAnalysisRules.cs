using MigrationTasks.Diagnostics;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>What a project asks of one code analysis rule.</summary>
public enum CodeAnalysisRuleAction
{
    Warning,
    Error,
    Disabled,
}

/// <summary>
/// <c>MigrationCodeAnalysisRules</c>, in the notation SSDT and MSBuild.Sdk.SqlProj users know: entries separated by
/// <c>;</c>, each <c>-SR0001</c> (disable), <c>+!SR0001</c> (problems are errors) or <c>+SR0001</c> (back to a
/// warning). A rule is named by its short id (SR0001) or full id (Microsoft.Rules.Data.SR0001), in any letter case;
/// a trailing <c>*</c> names every rule that starts so (<c>-SR*</c> disables them all). Later entries win.
/// </summary>
public sealed class CodeAnalysisRules
{
    // Each of these names every rule of DacFx's: the short ids all start with SR, the full ids with Microsoft.Rules.
    private static readonly HashSet<string> EveryRulePattern = new(["*", "SR*", "Microsoft.*", "Microsoft.Rules.*"], StringComparer.OrdinalIgnoreCase);

    private readonly IReadOnlyList<(CodeAnalysisRuleAction Action, string Pattern)> _entries;

    private CodeAnalysisRules(IReadOnlyList<(CodeAnalysisRuleAction, string)> entries) => _entries = entries;

    public static CodeAnalysisRules Default { get; } = new([]);

    /// <summary>Reads the property's value; MIG1001 naming the entry that is not <c>-RULE</c>, <c>+!RULE</c> or <c>+RULE</c>.</summary>
    public static CodeAnalysisRules Parse(string? expression)
    {
        var entries = new List<(CodeAnalysisRuleAction, string)>();
        foreach (var entry in (expression ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (action, pattern) = entry switch
            {
                _ when entry.StartsWith("+!", StringComparison.Ordinal) => (CodeAnalysisRuleAction.Error, entry[2..]),
                _ when entry.StartsWith('+') => (CodeAnalysisRuleAction.Warning, entry[1..]),
                _ when entry.StartsWith('-') => (CodeAnalysisRuleAction.Disabled, entry[1..]),
                _ => (CodeAnalysisRuleAction.Warning, ""),
            };
            var star = pattern.IndexOf('*');
            if (pattern.Length == 0 || pattern.Any(char.IsWhiteSpace) || (star >= 0 && star != pattern.Length - 1))
            {
                throw new DiagnosticException(Diagnostic.Error(
                    DiagnosticCodes.InvalidOption,
                    $"MigrationCodeAnalysisRules entry '{entry}' is not '-RULE' (disable), '+!RULE' (an error) or '+RULE' (a warning), " +
                    "where RULE is a rule id such as SR0001, or a prefix ending in '*'. Separate entries with ';'."));
            }

            entries.Add((action, pattern));
        }

        return new CodeAnalysisRules(entries);
    }

    /// <summary>The action for a rule: the last entry that names it, else a warning.</summary>
    public CodeAnalysisRuleAction ActionFor(string ruleId, string shortRuleId)
    {
        var action = CodeAnalysisRuleAction.Warning;
        foreach (var (entryAction, pattern) in _entries)
        {
            if (Names(pattern, ruleId) || Names(pattern, shortRuleId))
            {
                action = entryAction;
            }
        }

        return action;
    }

    /// <summary>
    /// True when the last entry that disables rules by a wildcard disables every rule DacFx has (<c>-*</c>, <c>-SR*</c>,
    /// <c>-Microsoft.Rules.*</c>) and no entry after it turns one on again: then nothing can run, and asking DacFx for
    /// its rules (most of a second in a cold process) is skipped. Entries before it name rules that are off anyway, so
    /// a typo among them is not reported. CodeAnalysisRulesTests checks that every rule DacFx has starts with SR.
    /// </summary>
    public bool DisablesEverything
    {
        get
        {
            var last = -1;
            for (var i = 0; i < _entries.Count; i++)
            {
                var (action, pattern) = _entries[i];
                if (action == CodeAnalysisRuleAction.Disabled && EveryRulePattern.Contains(pattern))
                {
                    last = i;
                }
            }

            return last >= 0 && _entries.Skip(last + 1).All(e => e.Action == CodeAnalysisRuleAction.Disabled);
        }
    }

    /// <summary>The entries that name no rule of <paramref name="rules"/> (a typo would otherwise be ignored silently).</summary>
    public IReadOnlyList<string> Unmatched(IReadOnlyCollection<(string RuleId, string ShortRuleId)> rules) =>
        _entries
            .Select(e => e.Pattern)
            .Where(pattern => !rules.Any(r => Names(pattern, r.RuleId) || Names(pattern, r.ShortRuleId)))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();

    private static bool Names(string pattern, string id) => pattern.EndsWith('*')
        ? id.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase)
        : id.Equals(pattern, StringComparison.OrdinalIgnoreCase);
}
