using System.Diagnostics;
using System.Text.Json;
using MigrationTasks.Diagnostics;
using MigrationTasks.Engines;
using MigrationTasks.Schema;
using MigrationTasks.Scripts;

namespace MigrationTasks.Core.Tests.InMemory;

/// <summary>A database of <see cref="InMemoryEngine"/>, open for the flow's steps.</summary>
internal sealed class InMemoryDatabase(InMemoryEngine engine, string name) : ITargetDatabase
{
    private static readonly SemaphoreSlim AnyLock = new(1, 1);
    private static readonly Dictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);
    // Ids unique across this session's uncommitted rows (a release transaction's) and the committed ones.
    private long _nextHistoryId;

    public string DisplayName => $"memory/{name}";

    public string Name => name;

    private InMemoryState State
    {
        get => engine.Database(name);
        set => engine.Replace(name, value);
    }

    private InMemoryFaults Faults => engine.FaultsOf(name);

    public async Task<IDeployLock> AcquireDeployLockAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate;
        await AnyLock.WaitAsync(cancellationToken);
        try
        {
            gate = Locks.TryGetValue(name, out var existing) ? existing : Locks[name] = new SemaphoreSlim(1, 1);
        }
        finally
        {
            AnyLock.Release();
        }

        if (!await gate.WaitAsync(maxWait, cancellationToken))
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.LockTimeout, $"{DisplayName}: another deploy holds the deploy lock."));
        }

        Faults.LockLost = false;
        return new Lock(this, gate);
    }

    public Task<string?> WhyReadOnlyAsync(CancellationToken cancellationToken) => Task.FromResult(Faults.ReadOnly);

    public Task<IReadOnlyList<DeployAttempt>> ReadDeployAttemptsAsync(CancellationToken cancellationToken) => Task.FromResult(State.Attempts);

    public Task RecordDeployAttemptAsync(DeployAttempt attempt, CancellationToken cancellationToken)
    {
        State = WithAttempt(State, attempt);
        return Task.CompletedTask;
    }

    public Task<int> EndOrphanedDeploySessionsAsync(CancellationToken cancellationToken) => Task.FromResult(0);

    public Task<IReleaseTransaction> BeginReleaseTransactionAsync(ApplyContext context, CancellationToken cancellationToken) =>
        Task.FromResult<IReleaseTransaction>(new ReleaseTransaction(this, context, State));

    public Task<IReadOnlyList<HistoryEntry>> ReadHistoryAsync(CancellationToken cancellationToken) => Task.FromResult(State.History);

    public Task ApplyAsync(MigrationStep step, ApplyContext context, CancellationToken cancellationToken)
    {
        if (step.Script.InTransaction)
        {
            var working = State;
            try
            {
                working = Claim(working, step, context);
                var objects = RunAll(step, working.Objects, cancellationToken);

                ProveLock(step);
                State = working with { Objects = objects };
            }
            catch (ScriptFailedException failure) when (context.RecordFailures)
            {
                State = WithHistory(State, Row(step, context, HistoryOutcome.Failed, 0, failure.Message));
                throw;
            }

            return Task.CompletedTask;
        }

        // Statement by statement, each committing on its own, the history row saying how far it got.
        var row = Row(step, context, HistoryOutcome.Running, step.FirstStatement, null);
        State = WithHistory(State, row);
        for (var i = step.FirstStatement; i < step.Script.Statements.Count; i++)
        {
            var objects = new Dictionary<string, SchemaObject>(State.Objects, StringComparer.Ordinal);
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                ProveLock(step);
                Execute(step.Script.Statements[i], i + 1, objects);
            }
            catch (ScriptFailedException failure)
            {
                State = WithHistory(State, Progress(row, step, i, HistoryOutcome.Failed, failure.Message));
                throw;
            }

            var done = i + 1 == step.Script.Statements.Count;
            State = WithHistory(State with { Objects = objects }, Progress(row, step, i + 1, done ? HistoryOutcome.Success : HistoryOutcome.Running, null));
        }

        if (step.Script.Statements.Count == step.FirstStatement)
        {
            State = WithHistory(State, Progress(row, step, step.FirstStatement, HistoryOutcome.Success, null));
        }

        return Task.CompletedTask;
    }

    public Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken) => Task.FromResult(State.Schema);

    public Task<IRehearsal> BeginRehearsalAsync(CancellationToken cancellationToken) => Task.FromResult<IRehearsal>(new Rehearsal(this, State));

    public Task<TestRun> RunTestAsync(PreparedScript test, CancellationToken cancellationToken) => Task.FromResult(Query(test, State.Objects));

    public Task<(ITargetDatabase? Shadow, string? Reason)> TryCreateShadowAsync(CancellationToken cancellationToken) =>
        Task.FromResult<(ITargetDatabase?, string?)>((new InMemoryDatabase(engine, $"{name}_shadow_{Guid.NewGuid():N}"), null));

    public Task<(ITargetDatabase? Copy, string? Reason)> TryCreateCopyAsync(CancellationToken cancellationToken)
    {
        var copy = $"{name}_copy_{Guid.NewGuid():N}";
        engine.Replace(copy, State);
        return Task.FromResult<(ITargetDatabase?, string?)>((new InMemoryDatabase(engine, copy), null));
    }

    /// <summary>The state written to a real file as JSON, and its metadata beside it, as a real engine's dump.</summary>
    public async Task<DatabaseBackup> BackupAsync(string backupDirectory, bool hashRows, CancellationToken cancellationToken)
    {
        var folder = DatabaseBackup.PrepareDirectory(backupDirectory);
        if (Faults.BackupFails)
        {
            throw new DiagnosticException(Diagnostic.Error(DiagnosticCodes.BackupFailed, $"{DisplayName}: the dump could not be written (no space left on device); nothing was touched."));
        }

        var started = Stopwatch.StartNew();
        var state = State;
        var takenAt = DateTimeOffset.UtcNow;
        var id = DatabaseBackup.NewId(name, takenAt);
        var dumpPath = DatabaseBackup.DumpPathFor(folder, id, ".memory.json");
        await File.WriteAllTextAsync(dumpPath, JsonSerializer.Serialize(new Dump([.. state.Objects.Values], [.. state.History])), cancellationToken);
        var backup = new DatabaseBackup(id, dumpPath, new FileInfo(dumpPath).Length, DisplayName, state.Schema.Hash, takenAt, started.Elapsed, "the dump read back")
        {
            DumpSha256 = await DatabaseBackup.HashFileAsync(dumpPath, cancellationToken),
            Format = "in-memory JSON",
            Schema = state.Schema,
        };
        backup.Save(folder);
        Faults.WrittenSinceBackup = Faults.ApplicationWritesAfterBackup;
        return backup;
    }

    public async Task RestoreAsync(DatabaseBackup backup, RestoreOptions options, CancellationToken cancellationToken)
    {
        if (Faults.WrittenSinceBackup && !options.DiscardLaterWrites)
        {
            throw new WritesSinceBackupException(backup.Id, ["an application wrote to the database"]);
        }

        // The dump holds the objects and the history, as a real dump holds the history table; deploy attempts are the runner's to record.
        var dump = JsonSerializer.Deserialize<Dump>(await File.ReadAllTextAsync(backup.DumpPath, cancellationToken))!;
        var restored = State with { Objects = dump.Objects.ToDictionary(o => $"{o.Kind} {o.Name}", StringComparer.Ordinal), History = dump.History };
        if (backup.SchemaNotRestored(restored.Schema, DisplayName) is { } notRestored)
        {
            throw notRestored;
        }

        State = options.Attempt is { } attempt ? WithAttempt(restored, attempt) : restored;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed record Dump(List<SchemaObject> Objects, List<HistoryEntry> History);

    /// <summary>The history row claimed before the first statement: one success per script and checksum, and the lock proven.</summary>
    private InMemoryState Claim(InMemoryState state, MigrationStep step, ApplyContext context)
    {
        ProveLock(step);
        if (step.File.Version is not null && state.History.Any(h => h.Script == step.File.ScriptName && h.Outcome == HistoryOutcome.Success))
        {
            throw new DeployLockLostException($"{step.File.ScriptName} is applied already: another deploy applied it while this one ran.");
        }

        return WithHistory(state, Row(step, context, HistoryOutcome.Success, step.Script.Statements.Count, null));
    }

    private void ProveLock(MigrationStep? step)
    {
        if (Faults.LockLost)
        {
            throw new DeployLockLostException($"{DisplayName}: the deploy lock's session was ended{(step is null ? "" : $" before {step.File.ScriptName}")}.");
        }
    }

    private HistoryEntry Row(MigrationStep step, ApplyContext context, HistoryOutcome outcome, int applied, string? error) => new(
        Math.Max(Interlocked.Increment(ref _nextHistoryId), State.History.Select(h => h.Id).DefaultIfEmpty().Max() + 1),
        step.File.Version?.Canonical,
        step.File.Description,
        step.File.ScriptName,
        step.File.Checksum,
        applied,
        step.Script.Statements.Count,
        StatementChecksum.Of(step.Script.Statements, applied),
        outcome,
        DateTimeOffset.UtcNow,
        outcome == HistoryOutcome.Running ? null : DateTimeOffset.UtcNow,
        error,
        context.DeployId);

    private static HistoryEntry Progress(HistoryEntry row, MigrationStep step, int applied, HistoryOutcome outcome, string? error) => row with
    {
        StatementsApplied = applied,
        AppliedStatementsChecksum = StatementChecksum.Of(step.Script.Statements, applied),
        Outcome = outcome,
        FinishedAt = outcome == HistoryOutcome.Running ? null : DateTimeOffset.UtcNow,
        Error = error,
    };

    private static InMemoryState WithHistory(InMemoryState state, HistoryEntry row) =>
        state with { History = [.. state.History.Where(h => h.Id != row.Id), row] };

    private static InMemoryState WithAttempt(InMemoryState state, DeployAttempt attempt) =>
        state with { Attempts = [.. state.Attempts.Where(a => a.Id != attempt.Id), attempt] };

    /// <summary>Every statement of the step on a copy of <paramref name="objects"/>, which is returned: all of them, or an exception.</summary>
    private Dictionary<string, SchemaObject> RunAll(MigrationStep step, IReadOnlyDictionary<string, SchemaObject> objects, CancellationToken cancellationToken)
    {
        var copy = new Dictionary<string, SchemaObject>(objects, StringComparer.Ordinal);
        for (var i = 0; i < step.Script.Statements.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Execute(step.Script.Statements[i], i + 1, copy);
        }

        return copy;
    }

    /// <summary>Runs one statement on <paramref name="objects"/>; <c>lose lock</c> plays a connection reaper ending the lock's session.</summary>
    private void Execute(ScriptStatement statement, int number, Dictionary<string, SchemaObject> objects)
    {
        if (statement.Text == "lose lock")
        {
            Faults.LockLost = true;
            return;
        }

        var words = statement.Text.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        switch (words)
        {
            case ["create", var kind, var objectName] when objects.TryAdd($"{kind} {objectName}", new SchemaObject(kind, objectName, $"{kind} {objectName}")):
            case ["drop", var dropKind, var dropName] when objects.Remove($"{dropKind} {dropName}"):
            case ["select", ..]:
                return;
            case ["create" or "drop", var kind, var objectName]:
                throw Failure(statement, number, $"{kind} {objectName} {(words[0] == "create" ? "already exists" : "does not exist")}");
            case ["fail", ..]:
                throw Failure(statement, number, statement.Text["fail".Length..].Trim());
            default:
                throw Failure(statement, number, $"syntax error at '{statement.Text}'");
        }
    }

    private TestRun Query(PreparedScript query, IReadOnlyDictionary<string, SchemaObject> committed)
    {
        var objects = new Dictionary<string, SchemaObject>(committed, StringComparer.Ordinal);
        IReadOnlyList<IReadOnlyList<string?>> rows = [];
        ScriptStatement? result = null;
        for (var i = 0; i < query.Statements.Count; i++)
        {
            var statement = query.Statements[i];
            try
            {
                Execute(statement, i + 1, objects);
            }
            catch (ScriptFailedException failure)
            {
                return new TestRun(failure, [], [], 0, null, TimeSpan.Zero);
            }

            if (statement.Text.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries) is ["select", var what, ..] and var words)
            {
                result = statement;
                rows = what == "missing" && words.Length == 4 && !objects.ContainsKey($"{words[2]} {words[3]}") ? [[$"{words[2]} {words[3]} is missing"]] : [];
            }
        }

        return new TestRun(null, result is null ? [] : ["problem"], rows, rows.Count, result, TimeSpan.Zero);
    }

    private static ScriptFailedException Failure(ScriptStatement statement, int number, string message) =>
        new(statement, number, "IM001", message, null, null, null);

    private sealed class Lock(InMemoryDatabase database, SemaphoreSlim gate) : IDeployLock
    {
        private bool _released;

        public Task ProveHeldAsync(CancellationToken cancellationToken)
        {
            database.ProveLock(null);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            if (!_released)
            {
                _released = true;
                gate.Release();
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Every migration on a copy of the state, which replaces the committed one only at the commit.</summary>
    private sealed class ReleaseTransaction(InMemoryDatabase database, ApplyContext context, InMemoryState start) : IReleaseTransaction
    {
        private InMemoryState _working = start;

        public Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _working = database.Claim(_working, step, context);
            _working = _working with { Objects = database.RunAll(step, _working.Objects, cancellationToken) };
            return Task.CompletedTask;
        }

        public Task<SchemaSnapshot> ReadSchemaAsync(CancellationToken cancellationToken) => Task.FromResult(_working.Schema);

        public Task<TestRun> RunQueryAsync(PreparedScript query, CancellationToken cancellationToken) => Task.FromResult(database.Query(query, _working.Objects));

        public Task CommitAsync(DeployAttempt attempt, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            database.ProveLock(null);
            // The attempts recorded outside the transaction meanwhile stay; this one's new state joins them.
            database.State = WithAttempt(_working with { Attempts = database.State.Attempts }, attempt);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Rehearsal(InMemoryDatabase database, InMemoryState start) : IRehearsal
    {
        private InMemoryState _working = start;

        public Task ApplyAsync(MigrationStep step, CancellationToken cancellationToken)
        {
            _working = _working with { Objects = database.RunAll(step, _working.Objects, cancellationToken) };
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
