namespace MigrationTasks.Core.Tests.InMemory;

/// <summary>
/// A test over a fresh <see cref="InMemoryEngine"/> server with its database <c>shop</c>, named by a connection
/// variable of its own (the flow reads connection strings from the environment), and a temporary folder for
/// project files, backups and reports.
/// </summary>
public abstract class InMemoryShopTest
{
    private protected InMemoryEngine Engine { get; private set; } = null!;

    /// <summary>The test's temporary folder, deleted after it.</summary>
    protected string Folder { get; private set; } = null!;

    /// <summary>The environment variable holding <c>memory:shop</c>.</summary>
    protected string Variable { get; private set; } = null!;

    private protected InMemoryState Shop => Engine.Database("shop");

    [SetUp]
    public void StartServer()
    {
        Engine = new InMemoryEngine();
        Folder = Directory.CreateTempSubdirectory("migrationtasks-inmemory-").FullName;
        Variable = $"MIGRATIONTASKS_INMEMORY_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(Variable, "memory:shop");
    }

    [TearDown]
    public void DeleteFolder()
    {
        Environment.SetEnvironmentVariable(Variable, null);
        Directory.Delete(Folder, recursive: true);
    }
}
