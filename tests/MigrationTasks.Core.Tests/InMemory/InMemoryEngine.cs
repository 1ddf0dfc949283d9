using System.Collections.Concurrent;
using System.Text.Json;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using MigrationTasks.Scripts;

namespace MigrationTasks.Core.Tests.InMemory;

/// <summary>
/// An engine whose databases live in memory, for tests of the flow's decisions (what the runner refuses, rolls back,
/// restores, resumes) without a server. It keeps the promises a real engine keeps: a transactional migration or a
/// release transaction commits whole or not at all, a non-transactional one records its progress after every
/// statement, a backup is a real file whose bytes a restore reads back.
/// <para>
/// Its scripts are statements separated by <c>;</c>: <c>create KIND NAME</c>, <c>drop KIND NAME</c>,
/// <c>fail MESSAGE</c> (an error at run time), <c>select missing KIND NAME</c> (a row when the object is missing: the
/// failure a check, test or verification reports) and <c>select nothing</c>. A script whose first line is
/// <c>-- no transaction</c> runs statement by statement.
/// </para>
/// <para>Connection strings are <c>memory:NAME</c>; each engine instance is one server.</para>
/// </summary>
internal sealed class InMemoryEngine : IMigrationEngine
{
    public const string NoTransactionMarker = "-- no transaction";

    private readonly ConcurrentDictionary<string, InMemoryState> _databases = new(StringComparer.Ordinal);

    public string Name => "InMemory";

    /// <summary>Faults to inject, by database name.</summary>
    public ConcurrentDictionary<string, InMemoryFaults> Faults { get; } = new(StringComparer.Ordinal);

    public bool IsBuiltIn(SchemaObject item) => item.Kind == "schema" && item.Name == "main";

    /// <summary>The committed state of a database (created empty, with its built-in schema, on first use).</summary>
    public InMemoryState Database(string name) => _databases.GetOrAdd(name, _ => InMemoryState.Empty());

    public PreparedScript Prepare(string path, string text)
    {
        var statements = new List<ScriptStatement>();
        var offset = 0;
        foreach (var part in text.Split(';'))
        {
            var trimmed = string.Join('\n', part.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal))).Trim();
            if (trimmed.Length > 0)
            {
                var start = text.IndexOf(trimmed, offset, StringComparison.Ordinal);
                statements.Add(new ScriptStatement(trimmed, start, text[..start].Count(c => c == '\n') + 1, 1));
            }

            offset += part.Length + 1;
        }

        var outside = text.StartsWith(NoTransactionMarker, StringComparison.Ordinal) ? $"the file starts with '{NoTransactionMarker}'" : null;
        return new PreparedScript(path, text, statements, outside);
    }

    public Task<ITargetDatabase> ConnectAsync(string connectionString, CancellationToken cancellationToken)
    {
        if (!connectionString.StartsWith("memory:", StringComparison.Ordinal))
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.InvalidConnectionString, "not an in-memory connection string (memory:NAME)."));
        }

        var name = connectionString["memory:".Length..];
        return Task.FromResult<ITargetDatabase>(new InMemoryDatabase(this, name));
    }

    public Task<IEphemeralServer> StartEphemeralServerAsync(string dataDirectory, bool fresh, CancellationToken cancellationToken) =>
        throw new EphemeralServerUnavailableException("the in-memory engine has no throwaway servers");

    /// <summary>Every database of this server with its committed state (shadows and copies included).</summary>
    public IEnumerable<(string Name, InMemoryState State)> Databases => _databases.Select(d => (d.Key, d.Value));

    /// <summary>Commits a new state of a database.</summary>
    internal void Replace(string name, InMemoryState state) => _databases[name] = state;

    internal InMemoryFaults FaultsOf(string name) => Faults.GetOrAdd(name, _ => new InMemoryFaults());
}

/// <summary>What a test makes go wrong on one database.</summary>
internal sealed class InMemoryFaults
{
    /// <summary>The deploy lock's session is ended (a connection reaper): the next proof of the lock fails.</summary>
    public bool LockLost { get; set; }

    /// <summary>Why the database takes no writes (a standby), or null.</summary>
    public string? ReadOnly { get; set; }

    /// <summary>Other sessions wrote since the backup: a restore without DiscardLaterWrites refuses.</summary>
    public bool WrittenSinceBackup { get; set; }

    /// <summary>An application writes as soon as a backup is taken (so <see cref="WrittenSinceBackup"/> becomes true).</summary>
    public bool ApplicationWritesAfterBackup { get; set; }

    /// <summary>The backup's dump cannot be written (a full disk).</summary>
    public bool BackupFails { get; set; }
}

/// <summary>One database's committed state: its objects, history and deploy attempts.</summary>
internal sealed record InMemoryState(
    IReadOnlyDictionary<string, SchemaObject> Objects,
    IReadOnlyList<HistoryEntry> History,
    IReadOnlyList<DeployAttempt> Attempts)
{
    public static InMemoryState Empty() => new(
        new Dictionary<string, SchemaObject> { ["schema main"] = new("schema", "main", "built in") }, [], []);

    public SchemaSnapshot Schema => new(Objects.Values);

    public bool Has(string kind, string name) => Objects.ContainsKey($"{kind} {name}");
}
