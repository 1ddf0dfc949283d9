using MigrationTasks.Diagnostics;

namespace MigrationTasks.Cli;

/// <summary>
/// The verb's options: <c>--name value</c> pairs, repeatable, and <c>@file</c> response files (one argument per
/// line) so that MSBuild can pass thousands of item paths without hitting a command-line length limit.
/// </summary>
internal sealed class Arguments
{
    /// <summary>Options that take no value: present means "true".</summary>
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal)
    {
        "allow-unsigned", "hash-rows", "transaction-per-migration", "discard-later-writes",
    };

    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    private Arguments(string verb) => Verb = verb;

    public string Verb { get; }

    public static Arguments Parse(IReadOnlyList<string> args)
    {
        var expanded = Expand(args).ToList();
        if (expanded.Count == 0 || expanded[0].StartsWith('-'))
        {
            throw Invalid($"no verb given. Usage: migrate <verb> [--option value]… (verbs: {VerbList})");
        }

        var parsed = new Arguments(expanded[0]);
        for (var i = 1; i < expanded.Count; i++)
        {
            var name = expanded[i];
            if (name.StartsWith("--", StringComparison.Ordinal) && Flags.Contains(name[2..]))
            {
                parsed._values[name[2..]] = ["true"];
                continue;
            }

            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= expanded.Count)
            {
                throw Invalid($"'{name}' is not an option followed by a value");
            }

            if (!parsed._values.TryGetValue(name[2..], out var list))
            {
                parsed._values[name[2..]] = list = [];
            }

            list.Add(expanded[++i]);
        }

        return parsed;
    }

    public const string VerbList = "check, build-dacpac, deploy-dev, test, validate-staging, package, verify, plan, deploy, restore, resolve, baseline";

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var list) ? list : [];

    public string? Optional(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public bool Flag(string name) => _values.ContainsKey(name);

    public string Required(string name) => Optional(name) ?? throw Invalid($"the option --{name} is required by '{Verb}'");

    public static DiagnosticException Invalid(string message) =>
        new(Diagnostic.Error(DiagnosticCodes.InvalidOption, message));

    private static IEnumerable<string> Expand(IEnumerable<string> args)
    {
        foreach (var arg in args)
        {
            if (arg.StartsWith('@') && File.Exists(arg[1..]))
            {
                foreach (var line in File.ReadAllLines(arg[1..]).Where(l => l.Length > 0))
                {
                    yield return line;
                }
            }
            else
            {
                yield return arg;
            }
        }
    }
}
