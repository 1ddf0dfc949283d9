namespace MigrationTasks.FaultInjection.Tests;

/// <summary>One production job: a package copy, its report and backup folders, and the runner started on it.</summary>
internal sealed class Deploy(Production production, string package)
{
    public const string ConnectionVariable = "SHOP_PRODUCTION";

    public string Package { get; } = package;

    public string Runner => Path.Combine(Package, "migrate.dll");

    public string ReleaseDirectory => Path.Combine(Package, "release");

    public string BackupDirectory { get; set; } = Path.Combine(package, "..", Path.GetFileName(package) + "-backups");

    public string ReportDirectory { get; set; } = Path.Combine(package, "..", Path.GetFileName(package) + "-report");

    /// <summary>Starts <c>dotnet migrate.dll deploy</c> with the trusted signer and this job's folders, plus <paramref name="options"/>.</summary>
    public RunnerProcess Start(params string[] options) => StartVerb("deploy", options);

    /// <summary>Starts another verb of the runner (plan, restore, resolve) on production.</summary>
    public RunnerProcess StartVerb(string verb, params string[] options)
    {
        string[] standard = verb == "deploy"
            // Statements wait at the scenarios' gates: no statement lock timeout unless a test asks for one.
            ? ["--connection-variable", ConnectionVariable, "--trust", ReleaseWorkshop.TrustPem, "--backup-dir", BackupDirectory, "--report-dir", ReportDirectory,
               "--lock-timeout", "120", "--lock-wait", "0"]
            : ["--connection-variable", ConnectionVariable];
        return RunnerProcess.Start(Runner, [verb, .. standard, .. options], new Dictionary<string, string> { [ConnectionVariable] = production.ConnectionString });
    }

    /// <summary>Runs the deploy to its end.</summary>
    public async Task<(int ExitCode, string Output)> RunAsync(params string[] options)
    {
        using var runner = Start(options);
        return await runner.WaitForExitAsync();
    }

    /// <summary>The latest report.json's outcome and exit code, as written by the last run.</summary>
    public Production.Report LastReport()
    {
        var path = Path.Combine(ReportDirectory, "report.json");
        Assert.That(File.Exists(path), Is.True, $"no report at {path}");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        return new Production.Report(root.GetProperty("exit").GetString()!, root.GetProperty("outcome").GetString()!, File.ReadAllText(path));
    }
}
