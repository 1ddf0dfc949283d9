using System.Diagnostics;
using System.IO.Compression;
using System.Net.Sockets;
using MigrationTasks.Cli.ModelServer;

namespace MigrationTasks.Cli.Tests;

/// <summary>
/// build-dacpac and the model server as real processes, each test with a server folder of its own
/// (MIGRATIONTASKS_MODEL_SERVER_DIR). Whatever the server does, the build succeeds with what a cold build writes.
/// </summary>
[NonParallelizable]
public sealed class ModelServerTests
{
    private string _root = "";
    private string _serverFolder = "";
    private readonly List<Process> _started = [];

    [SetUp]
    public void CreateFolders()
    {
        _root = Path.Combine(Path.GetTempPath(), "migrationtasks-model-server-tests", Guid.NewGuid().ToString("N")[..12]);
        _serverFolder = Path.Combine(_root, "servers");
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public async Task StopEverythingAndDeleteTheFolders()
    {
        await Cli.RunProcessAsync(["model-server", "--stop"], Environment());
        foreach (var process in _started)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Ended already.
            }
        }

        _started.Clear();

        foreach (var pid in ServerProcessIds().Where(Alive))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Test]
    public async Task A_cold_build_starts_a_server_whose_warm_builds_write_the_model_xml_and_diagnostics_of_a_cold_build_and_stop_ends_it()
    {
        var project = Project("Shop");

        var (coldExit, coldOutput) = await Build(project, "warm/Shop.dacpac");

        Assert.That(coldExit, Is.EqualTo(0), coldOutput);
        Assert.That(coldOutput, Does.Not.Contain("Model server"), "the first build is cold");
        await WaitFor(() => Log().Contains("(priming)") && Log().Split('\n').Count(l => l.Contains(" built ")) >= 1, "the started server primes its model");

        var edits = new (string File, string Text, int Added)[]
        {
            ("Names.sql", "CREATE VIEW dbo.Names AS SELECT CustomerId, Name FROM dbo.Customer;\n", 1),
            ("Broken.sql", "CREATE TABLE dbo.Broken (Id int,, Name int);\n", -1),
            ("Broken.sql", "CREATE TABLE dbo.Broken (Id int NOT NULL CONSTRAINT PK_Broken PRIMARY KEY);\n", 1),
        };
        foreach (var (file, text, added) in edits)
        {
            File.WriteAllText(Path.Combine(project, "Schema", file), text);

            var (warmExit, warmOutput) = await Build(project, "warm/Shop.dacpac");
            var (coldAgainExit, coldAgainOutput) = await Build(project, "cold/Shop.dacpac", server: false);

            Assert.That(warmOutput, Does.Match(added < 0 ? @"Model server \(process \d+\): no file modelled" : $@"Model server \(process \d+\): {added} of \d+ schema file\(s\) modelled again"));
            Assert.That(warmExit, Is.EqualTo(coldAgainExit), warmOutput);
            Assert.That(Diagnostics(warmOutput), Is.EqualTo(Diagnostics(coldAgainOutput)).And.Not.Empty, file);
            if (warmExit == 0)
            {
                Assert.That(ModelXml(project, "warm/Shop.dacpac"), Is.EqualTo(ModelXml(project, "cold/Shop.dacpac")), $"{file}: model.xml");
            }
        }

        var server = ServerProcessIds().Single();
        var (stopExit, stopOutput) = await Cli.RunProcessAsync(["model-server", "--stop"], Environment());

        Assert.That((stopExit, stopOutput), Is.EqualTo((0, "The model server stopped.\n")));
        await WaitFor(() => !Alive(server), "the server ends");
        Assert.That(File.Exists(Address().Socket), Is.False, "its socket is gone");
    }

    [Test]
    public async Task A_server_killed_mid_request_leaves_the_build_to_the_cold_path()
    {
        var project = Project("Shop");
        var server = StartServer(idleTimeoutSeconds: 120);
        await WaitFor(() => File.Exists(Address().Socket), "the server listens");

        var build = Build(project, "bin/Shop.dacpac");
        await WaitFor(() => Log().Contains("building "), "the server has the request");
        server.Kill();
        var (exit, output) = await build;

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("The model server did not answer"));
        Assert.That(output, Does.Contain($"Built {Path.Combine(project, "bin/Shop.dacpac")}").And.Not.Contain("Model server ("));
        Assert.That(ModelXml(project, "bin/Shop.dacpac"), Is.Not.Empty);
        await WaitFor(() => ServerProcessIds().Count() == 2, "the cold build starts a server in the killed one's place");
    }

    [Test]
    public async Task A_server_ends_after_its_idle_timeout_and_removes_its_socket()
    {
        var server = StartServer(idleTimeoutSeconds: 1);
        await WaitFor(() => File.Exists(Address().Socket), "the server listens");

        await WaitFor(() => server.HasExited, "the server ends when idle");

        Assert.That(server.ExitCode, Is.EqualTo(0));
        Assert.That(File.Exists(Address().Socket), Is.False);
        Assert.That(Log(), Does.Contain("no request for 1 s"));
    }

    [Test]
    public async Task A_server_ends_with_the_MSBuild_node_that_last_used_it()
    {
        var project = Project("Shop");
        var server = StartServer(idleTimeoutSeconds: 600);
        await WaitFor(() => File.Exists(Address().Socket), "the server listens");
        var node = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        _started.Add(node);

        var (exit, output) = await Build(project, "bin/Shop.dacpac", "--model-server-host", node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        node.Kill();

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("Model server ("));
        await WaitFor(() => server.HasExited, "the server ends with the node");
        Assert.That(Log(), Does.Contain($"the MSBuild node {node.Id} ended"));
    }

    [Test]
    public async Task Two_projects_built_at_once_are_both_served()
    {
        var shop = Project("Shop");
        var crm = Project("Crm");
        StartServer(idleTimeoutSeconds: 120);
        await WaitFor(() => File.Exists(Address().Socket), "the server listens");

        var builds = await Task.WhenAll(Build(shop, "bin/Shop.dacpac"), Build(crm, "bin/Crm.dacpac"));

        Assert.That(builds.Select(b => b.Exit), Is.EqualTo(new[] { 0, 0 }), string.Join("\n", builds.Select(b => b.Output)));
        Assert.That(builds.Select(b => b.Output), Has.All.Contain("Model server (").And.All.Contain("5 of 5 schema file(s) modelled again"));
        Assert.That(ModelXml(shop, "bin/Shop.dacpac"), Is.Not.Empty);
        Assert.That(ModelXml(crm, "bin/Crm.dacpac"), Is.Not.Empty);
    }

    [Test]
    public async Task A_server_of_another_CLI_build_and_a_dead_servers_socket_are_ignored()
    {
        StartServer(idleTimeoutSeconds: 120);
        await WaitFor(() => File.Exists(Address().Socket), "the server listens");

        // Another build of the CLI has another key: this server answers it nothing.
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Connect(Address().EndPoint);
            using var stream = new NetworkStream(socket);
            DacpacServerMessages.Write(stream, new DacpacServerRequest("model-0000000000000000", DacpacServerRequestKind.Build, _root, 0, ["build-dacpac", "--out", "x.dacpac"]));
            Assert.That(DacpacServerMessages.ReadResponse(stream).Served, Is.False);
        }

        await Cli.RunProcessAsync(["model-server", "--stop"], Environment());
        await WaitFor(() => !File.Exists(Address().Socket), "the server ends");
        // A server killed with -9 leaves its socket file: connecting is refused, and the build is cold without a word.
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(Address().EndPoint);
        }

        var project = Project("Shop");
        var (exit, output) = await Build(project, "bin/Shop.dacpac");

        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Not.Contain("Model server (").And.Not.Contain("did not answer"));
        await WaitFor(() => Log().Contains("(priming)"), "the cold build started a new server in the dead one's place");
    }

    /// <summary>A project of five files, one of them with a code analysis warning (SR0001) and one with a model warning.</summary>
    private string Project(string name)
    {
        var folder = Path.Combine(_root, name);
        Directory.CreateDirectory(Path.Combine(folder, "Schema"));
        File.WriteAllText(Path.Combine(folder, "Schema", "Customer.sql"), "CREATE TABLE dbo.Customer (CustomerId int NOT NULL CONSTRAINT PK_Customer PRIMARY KEY, Name nvarchar(100) NOT NULL);\n");
        File.WriteAllText(Path.Combine(folder, "Schema", "Names.sql"), "CREATE VIEW dbo.Names AS SELECT Name FROM dbo.Customer;\n");
        File.WriteAllText(Path.Combine(folder, "Schema", "All.sql"), "-- every customer\n\nCREATE VIEW dbo.AllCustomers AS\nSELECT * FROM dbo.Customer;\n");
        File.WriteAllText(Path.Combine(folder, "Schema", "Seed.sql"), "CREATE TABLE dbo.Country (Code char(2) NOT NULL CONSTRAINT PK_Country PRIMARY KEY);\nGO\nINSERT INTO dbo.Country VALUES ('NO');\n");
        File.WriteAllText(Path.Combine(folder, "Schema", "Broken.sql"), "CREATE TABLE dbo.Broken (Id int NOT NULL CONSTRAINT PK_Broken PRIMARY KEY, Name int NULL);\n");
        return folder;
    }

    private Task<(int Exit, string Output)> Build(string project, string dacpac, params string[] extra) => Build(project, dacpac, server: true, extra);

    private Task<(int Exit, string Output)> Build(string project, string dacpac, bool server, params string[] extra)
    {
        var rsp = Path.Combine(project, $"build-{Guid.NewGuid():N}.rsp");
        File.WriteAllLines(rsp, [
            .. Directory.GetFiles(Path.Combine(project, "Schema"), "*.sql").Order(StringComparer.Ordinal).SelectMany(f => new[] { "--schema", f }),
            "--out", Path.Combine(project, dacpac), "--database-name", "Shop", "--model-server-idle-timeout", "60", .. extra]);
        var environment = Environment();
        if (!server)
        {
            environment["MIGRATIONTASKS_MODEL_SERVER"] = "0";
        }

        return Cli.RunProcessAsync(["build-dacpac", "@" + rsp], environment);
    }

    private Process StartServer(int idleTimeoutSeconds)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Cli.Dll, "model-server", "--idle-timeout", idleTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in Environment())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        _started.Add(process);
        return process;
    }

    private Dictionary<string, string> Environment() => new() { ["MIGRATIONTASKS_MODEL_SERVER_DIR"] = _serverFolder };

    /// <summary>The address of the CLI under test (its key is its path and its assemblies' build, which this process loaded too).</summary>
    private DacpacServerAddress Address() => new(_serverFolder, DacpacServerAddress.KeyOf(Cli.Dll));

    private string Log()
    {
        try
        {
            using var stream = new FileStream(Address().LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private IEnumerable<int> ServerProcessIds() =>
        System.Text.RegularExpressions.Regex.Matches(Log(), @"started \(process (\d+)").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToList();

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static List<string> Diagnostics(string output) =>
        [.. output.Split('\n').Where(l => l.Contains(": warning MIG") || l.Contains(": error MIG"))];

    private static byte[] ModelXml(string project, string dacpac)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(project, dacpac));
        using var model = zip.GetEntry("model.xml")!.Open();
        var bytes = new MemoryStream();
        model.CopyTo(bytes);
        return bytes.ToArray();
    }

    private static async Task WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting until {what}");
            }

            await Task.Delay(100);
        }
    }
}
