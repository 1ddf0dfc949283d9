using System.IO.Packaging;
using System.Text;
using System.Xml.Linq;
using MigrationTasks.Diagnostics;
using MigrationTasks.Schema;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>
/// The objects of a dacpac's model (its model.xml, read as XML: fast, no DacFx model) named and kinded as the live
/// SQL Server schema reader names them ("table sales.Customer", "column sales.Customer.Email"), for
/// <see cref="CatalogFingerprint"/>: the schema <c>dbo</c> and MigrationTasks' <c>migrationtasks</c> are left out, as
/// the live reader leaves them out.
/// </summary>
public static class DacpacCatalog
{
    private static readonly Dictionary<string, string> KindOf = new(StringComparer.Ordinal)
    {
        ["SqlSchema"] = "schema",
        ["SqlTable"] = "table",
        ["SqlSimpleColumn"] = "column",
        ["SqlComputedColumn"] = "column",
        ["SqlView"] = "view",
        ["SqlProcedure"] = "procedure",
        ["SqlScalarFunction"] = "function",
        ["SqlInlineTableValuedFunction"] = "function",
        ["SqlMultiStatementTableValuedFunction"] = "function",
        ["SqlDmlTrigger"] = "trigger",
        ["SqlSequence"] = "sequence",
        ["SqlUserDefinedDataType"] = "type",
        ["SqlTableType"] = "type",
    };

    public static string Fingerprint(string dacpac, string code) => CatalogFingerprint.Of(Objects(dacpac, code));

    public static IReadOnlyList<(string Kind, string Name)> Objects(string dacpac, string code)
    {
        XDocument model;
        try
        {
            using var package = Package.Open(dacpac, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var stream = package.GetPart(new Uri("/model.xml", UriKind.Relative)).GetStream();
            model = XDocument.Load(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or System.Xml.XmlException)
        {
            throw new DiagnosticException(Diagnostic.Error(code, $"the dacpac's model cannot be read: {e.Message}", dacpac));
        }

        var objects = new List<(string, string)>();
        foreach (var element in model.Descendants().Where(e => e.Name.LocalName == "Element"))
        {
            if ((string?)element.Attribute("Type") is not { } type || !KindOf.TryGetValue(type, out var kind)
                || (string?)element.Attribute("Name") is not { Length: > 0 } name)
            {
                continue;
            }

            // Columns of tables only: a view's or a table type's columns are not catalog columns of the live reader.
            if (kind == "column" && element.Ancestors().FirstOrDefault(a => a.Name.LocalName == "Element")?.Attribute("Type")?.Value != "SqlTable")
            {
                continue;
            }

            var parts = Parts(name);
            if (parts.Count == 0 || parts[0].Equals("migrationtasks", StringComparison.OrdinalIgnoreCase) || (kind == "schema" && parts[0] == "dbo"))
            {
                continue;
            }

            objects.Add((kind, string.Join('.', parts)));
        }

        return objects;
    }

    /// <summary>[sales].[Customer] → sales, Customer (a part may hold "]]").</summary>
    private static List<string> Parts(string name)
    {
        var parts = new List<string>();
        var part = new StringBuilder();
        var inside = false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (!inside && c == '[')
            {
                inside = true;
            }
            else if (inside && c == ']' && i + 1 < name.Length && name[i + 1] == ']')
            {
                part.Append(']');
                i++;
            }
            else if (inside && c == ']')
            {
                inside = false;
                parts.Add(part.ToString());
                part.Clear();
            }
            else if (inside)
            {
                part.Append(c);
            }
        }

        return parts;
    }
}
