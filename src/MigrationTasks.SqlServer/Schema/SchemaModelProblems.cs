using System.Globalization;
using System.Text.RegularExpressions;
using MigrationTasks.Diagnostics;
using Microsoft.SqlServer.Dac;
using Microsoft.SqlServer.Dac.Model;

namespace MigrationTasks.SqlServer.Schema;

/// <summary>
/// DacFx's findings about a model as MIG2011 diagnostics at file(line,col). Errors it met while adding scripts carry
/// their own position; <c>Validate()</c>'s messages (unresolved references, SQL71501 and kin) carry none, so each is
/// placed where the element it names was defined (<c>GetSourceInformation</c>).
/// </summary>
internal static partial class SchemaModelProblems
{
    /// <summary>What DacFx reported while adding the scripts (statements it cannot model, its own syntax errors).</summary>
    public static IEnumerable<Diagnostic> FromModelErrors(TSqlModel model) =>
        model.GetModelErrors().Select(e => new Diagnostic(
            e.Severity == ModelErrorSeverity.Warning ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
            DiagnosticCodes.SchemaModelProblem,
            Describe(e.Prefix, e.ErrorCode, e.Message, e.ErrorCode == 70501 ? " Data changes belong in Deploy/PostDeployment.sql." : ""),
            e.SourceName,
            e.Line,
            e.Column));

    /// <summary>The model's validation messages, each at the definition of the element it is about.</summary>
    public static IReadOnlyList<Diagnostic> FromValidation(TSqlModel model)
    {
        var messages = model.Validate();
        if (messages.Count == 0)
        {
            return [];
        }

        var definitions = Definitions(model);
        return messages
            .Select(m =>
            {
                var text = ElementPrefix().Replace(m.Message, "");
                var source = Locate(text, definitions);
                return new Diagnostic(
                    m.MessageType == DacMessageType.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                    DiagnosticCodes.SchemaModelProblem,
                    Describe(m.Prefix, m.Number, text, ""),
                    source?.SourceName,
                    source?.StartLine ?? 0,
                    source?.StartColumn ?? 0);
            })
            .ToList();
    }

    private static string Describe(string prefix, int number, string message, string hint) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{number}: {message.Trim()}{hint}");

    /// <summary>Every named object the project defined, by its full name as DacFx prints it ([dbo].[orders]).</summary>
    private static Dictionary<string, SourceInformation> Definitions(TSqlModel model)
    {
        var definitions = new Dictionary<string, SourceInformation>(StringComparer.OrdinalIgnoreCase);
        foreach (var element in model.GetObjects(DacQueryScopes.UserDefined))
        {
            var name = element.Name.ToString();
            if (name.Length > 0 && element.GetSourceInformation() is { SourceName.Length: > 0 } source)
            {
                definitions.TryAdd(name, source);
            }
        }

        return definitions;
    }

    /// <summary>
    /// The first name in the message that the project defines, or whose parent it defines: the element the message
    /// is about comes first ("View: [dbo].[v] contains an unresolved reference…"); a column is found by its table.
    /// </summary>
    private static SourceInformation? Locate(string message, Dictionary<string, SourceInformation> definitions)
    {
        foreach (Match match in QualifiedName().Matches(message))
        {
            var name = match.Value;
            while (true)
            {
                if (definitions.TryGetValue(name, out var source))
                {
                    return source;
                }

                var lastPart = name.LastIndexOf(".[", StringComparison.Ordinal);
                if (lastPart <= 0)
                {
                    break;
                }

                name = name[..lastPart];
            }
        }

        return null;
    }

    // "Error validating element [dbo].[v]: " (or "<unnamed>: "): the location says it better.
    [GeneratedRegex(@"^Error validating element .*?: ")]
    private static partial Regex ElementPrefix();

    // [a].[b].[c], where a part may hold ']]'.
    [GeneratedRegex(@"\[(?:[^\]]|\]\])*\](?:\.\[(?:[^\]]|\]\])*\])*")]
    private static partial Regex QualifiedName();
}
