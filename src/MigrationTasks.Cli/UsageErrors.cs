using System.CommandLine;
using System.CommandLine.Parsing;
using MigrationTasks.Diagnostics;

namespace MigrationTasks.Cli;

/// <summary>
/// A command line that does not parse, said as MIG1001 errors a person can act on at 2 a.m.: the unknown verb or
/// option with the closest valid one ("did you mean --connection-variable?"), the missing option with what it is
/// for, the bad value with what is expected; each with the <c>--help</c> to read.
/// </summary>
internal static class UsageErrors
{
    public static void Report(ParseResult parsed, Command root, Reporter reporter)
    {
        var command = parsed.CommandResult.Command;
        var help = command == root ? $"`{root.Name} --help`" : $"`{root.Name} {command.Name} --help`";
        var messages = new List<string>();

        if (command == root)
        {
            // No verb, or one that does not exist: whatever follows it cannot be judged.
            var verbs = root.Subcommands.Select(c => c.Name).ToList();
            messages.Add(parsed.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-')) is { } unknown
                ? $"'{unknown}' is not a verb{DidYouMean(unknown, verbs)} Verbs: {string.Join(", ", verbs)}; {help} describes them."
                : parsed.UnmatchedTokens.FirstOrDefault() is { } option
                    ? $"'{option}' comes before a verb: the usage is {root.Name} <verb> [--option value]… (verbs: {string.Join(", ", verbs)}); {help} describes them."
                    : $"no verb given: the usage is {root.Name} <verb> [--option value]… (verbs: {string.Join(", ", verbs)}); {help} describes them.");
        }
        else
        {
            var afterUnknownOption = false;
            var meant = new HashSet<string>(StringComparer.Ordinal);
            foreach (var token in parsed.UnmatchedTokens)
            {
                if (token.StartsWith('-'))
                {
                    messages.Add(UnknownOption(token, command, root, help, meant));
                    afterUnknownOption = true;
                }
                else if (afterUnknownOption)
                {
                    // The value of the unknown option just named.
                    afterUnknownOption = false;
                }
                else
                {
                    messages.Add($"'{token}' is not an option of '{command.Name}': give values as --option value; {help} lists its options.");
                }
            }

            // Errors of the tokens themselves were said above; these are the options' own (missing, bad value). A required
            // option that a misspelt one above was taken to mean is not said to be missing as well.
            foreach (var error in parsed.Errors.Where(e => e.SymbolResult is not CommandResult))
            {
                if (error.SymbolResult is OptionResult { IdentifierToken: null, Option: { Required: true } required })
                {
                    if (!meant.Contains(required.Name))
                    {
                        messages.Add($"the option {required.Name} <{required.HelpName}> is required by '{command.Name}': {LowerFirst(required.Description)} See {help}.");
                    }
                }
                else
                {
                    messages.Add($"{error.Message.TrimEnd()}{(error.Message.TrimEnd().EndsWith('.') ? "" : ".")} See {help}.");
                }
            }
        }

        foreach (var message in messages.Distinct())
        {
            reporter.Report(Diagnostic.Error(DiagnosticCodes.InvalidOption, message));
        }
    }

    private static string UnknownOption(string token, Command command, Command root, string help, HashSet<string> meant)
    {
        var name = token.Split('=', 2)[0];
        var options = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal)).Distinct().ToList();
        if (options.Contains(name))
        {
            meant.Add(name);
            return $"'{name}' comes before the verb: the usage is {root.Name} {command.Name} {name} …; options follow the verb.";
        }

        if (Closest(name, options) is { } closest)
        {
            meant.Add(closest);
            return $"'{token}' is not an option of '{command.Name}': did you mean {closest}? {help} lists its options.";
        }

        var elsewhere = root.Subcommands.Where(c => c != command && c.Options.Any(o => o.Name == name)).Select(c => c.Name).ToList();
        return elsewhere.Count > 0
            ? $"'{name}' is not an option of '{command.Name}' (it is one of {string.Join(", ", elsewhere)}). '{command.Name}' takes {string.Join(", ", options)}; {help} describes them."
            : $"'{token}' is not an option of '{command.Name}', which takes {string.Join(", ", options)}; {help} describes them.";
    }

    private static string DidYouMean(string token, IReadOnlyList<string> candidates) =>
        Closest(token, candidates) is { } closest ? $": did you mean {closest}?" : ".";

    private static string LowerFirst(string? text) =>
        string.IsNullOrEmpty(text) ? "" : char.ToLowerInvariant(text[0]) + text[1..];

    /// <summary>
    /// The candidate nearest to <paramref name="token"/> by edit distance (a swap of two neighbours counts once), when
    /// it is near enough to be what was meant, or begins with what was typed; null otherwise.
    /// </summary>
    public static string? Closest(string token, IReadOnlyList<string> candidates)
    {
        var best = candidates
            .Select(c => (Candidate: c, Distance: Distance(token.ToLowerInvariant(), c.ToLowerInvariant())))
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Candidate, StringComparer.Ordinal)
            .FirstOrDefault();
        if (best.Candidate is null)
        {
            return null;
        }

        var near = best.Distance <= Math.Max(2, token.TrimStart('-').Length / 3);
        var prefix = token.TrimStart('-').Length >= 3 && candidates.Count(c => c.StartsWith(token, StringComparison.OrdinalIgnoreCase)) == 1;
        return near ? best.Candidate : prefix ? candidates.Single(c => c.StartsWith(token, StringComparison.OrdinalIgnoreCase)) : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
