using System.Xml.Linq;

namespace MigrationTasks.SqlServer.Planning;

/// <summary>One operation of a DacFx deploy report: what happens to which object, and the alerts it carries.</summary>
/// <param name="Kind">DacFx's operation name: Create, Alter, Drop, TableRebuild, Rename, …</param>
/// <param name="Name">The object, as DacFx prints it: <c>[sales].[Customer]</c>.</param>
/// <param name="Type">DacFx's element type, e.g. <c>SqlTable</c>, <c>SqlSimpleColumn</c>, <c>SqlView</c>.</param>
/// <param name="Issues">The alerts DacFx raised about this operation (their text), e.g. a data-loss warning.</param>
public sealed record DeployOperation(string Kind, string Name, string Type, IReadOnlyList<DeployAlert> Issues);

/// <summary>One alert of a deploy report: its kind (DataIssue, …) and DacFx's sentence.</summary>
public sealed record DeployAlert(string Kind, string Message);

/// <summary>
/// DacFx's deploy report (<c>GenerateDeployReport</c>), read: the operations in order, each with the alerts that
/// point at it, and the alerts no operation points at.
/// </summary>
public sealed record DeployReport(IReadOnlyList<DeployOperation> Operations, IReadOnlyList<DeployAlert> UnattachedAlerts)
{
    public static DeployReport Parse(string xml)
    {
        var root = XDocument.Parse(xml).Root ?? throw new InvalidDataException("the deploy report is empty");
        var ns = root.Name.Namespace;
        var alerts = new Dictionary<string, DeployAlert>(StringComparer.Ordinal);
        var unattached = new List<DeployAlert>();
        foreach (var alert in root.Elements(ns + "Alerts").Elements(ns + "Alert"))
        {
            var kind = (string?)alert.Attribute("Name") ?? "Alert";
            foreach (var issue in alert.Elements(ns + "Issue"))
            {
                var found = new DeployAlert(kind, (string?)issue.Attribute("Value") ?? "");
                if ((string?)issue.Attribute("Id") is { } id)
                {
                    alerts[id] = found;
                }
                else
                {
                    unattached.Add(found);
                }
            }
        }

        var attached = new HashSet<string>(StringComparer.Ordinal);
        var operations = new List<DeployOperation>();
        foreach (var operation in root.Elements(ns + "Operations").Elements(ns + "Operation"))
        {
            var kind = (string?)operation.Attribute("Name") ?? "";
            foreach (var item in operation.Elements(ns + "Item"))
            {
                var issues = new List<DeployAlert>();
                foreach (var id in item.Elements(ns + "Issue").Select(i => (string?)i.Attribute("Id")).OfType<string>())
                {
                    if (alerts.TryGetValue(id, out var alert))
                    {
                        issues.Add(alert);
                        attached.Add(id);
                    }
                }

                operations.Add(new DeployOperation(kind, (string?)item.Attribute("Value") ?? "", (string?)item.Attribute("Type") ?? "", issues));
            }
        }

        unattached.AddRange(alerts.Where(a => !attached.Contains(a.Key)).Select(a => a.Value));
        return new DeployReport(operations, unattached);
    }
}
