using System.Text;
using Microsoft.Build.Logging.StructuredLogger;

namespace MigrationTasks.EndToEnd.Tests;

/// <summary>Every string a binary log holds: its events, properties, messages and embedded files.</summary>
internal static class BinaryLogText
{
    public static string ReadAll(string path)
    {
        var text = new StringBuilder();
        foreach (var record in BinaryLog.ReadRecords(path))
        {
            if (record.Args is { } args)
            {
                text.AppendLine(args.Message);
                if (args is Microsoft.Build.Framework.ProjectEvaluationFinishedEventArgs evaluation)
                {
                    foreach (var item in evaluation.Properties?.Cast<object>() ?? [])
                    {
                        text.AppendLine(item.ToString());
                    }
                }
            }
        }

        var build = BinaryLog.ReadBuild(path);
        build.VisitAllChildren<BaseNode>(node => text.AppendLine(node.ToString()));
        foreach (var file in build.SourceFiles ?? [])
        {
            text.AppendLine(file.Text);
        }

        return text.ToString();
    }
}
