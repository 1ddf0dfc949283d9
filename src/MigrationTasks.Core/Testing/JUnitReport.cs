using System.Globalization;
using System.Xml.Linq;

namespace MigrationTasks.Testing;

/// <summary>
/// Writes test results as JUnit XML, the format CI servers show without a plug-in. A test a selective run kept is
/// listed as passed, with no time and a note in its system-out.
/// </summary>
public static class JUnitReport
{
    /// <summary>What a kept result (<see cref="TestResult.Kept"/>) says in the report: it passed, but not in this run.</summary>
    public const string KeptNote = "not re-run: inputs unchanged since it passed";

    public static void Write(string path, string suiteName, IReadOnlyList<TestResult> results)
    {
        var seconds = (TestResult r) => (r.Run?.Duration.TotalSeconds ?? 0).ToString("0.000", CultureInfo.InvariantCulture);
        var suite = new XElement(
            "testsuite",
            new XAttribute("name", suiteName),
            new XAttribute("tests", results.Count),
            new XAttribute("failures", results.Count(r => r.Run is { Error: null } && !r.Passed)),
            new XAttribute("errors", results.Count(r => r.Failure is not null && r.Run is not { Error: null })),
            new XAttribute("time", results.Sum(r => r.Run?.Duration.TotalSeconds ?? 0).ToString("0.000", CultureInfo.InvariantCulture)),
            results.Select(r => new XElement(
                "testcase",
                new XAttribute("classname", suiteName),
                new XAttribute("name", r.Path),
                new XAttribute("time", seconds(r)),
                r.Kept ? new XElement("system-out", KeptNote) : null,
                r.Failure is null
                    ? null
                    : new XElement(
                        r.Run is { Error: null } ? "failure" : "error",
                        new XAttribute("message", r.Failure.Message),
                        new XAttribute("type", r.Failure.Code),
                        r.Failure.ToString()))));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        new XDocument(new XElement("testsuites", suite)).Save(path);
    }
}
