using MigrationTasks.Applying;
using MigrationTasks.Engines;
using MigrationTasks.Scripts;

namespace MigrationTasks.Core.Tests.Applying;

/// <summary>
/// An engine's migration session in memory: it records every call in order, keeps the history rows a real table
/// would (a transaction's rows appear only when it commits), and fails, cancels or loses its lock where a test says.
/// </summary>
internal sealed class FakeMigrationSession : IMigrationSession
{
    public List<string> Calls { get; } = [];

    /// <summary>The committed history rows, by id.</summary>
    public SortedDictionary<long, FakeRow> Rows { get; } = [];

    /// <summary>What statement i (0-based) does instead of succeeding: throw this.</summary>
    public Dictionary<int, Func<ScriptStatement, int, Exception>> Stops { get; } = [];

    /// <summary>The proof of the lock that fails (1-based count of <see cref="ProveLockAsync"/> calls); 0: never.</summary>
    public int LockLostAtProof { get; init; }

    /// <summary>Statements (0-based) after which the script holds a transaction of its own open.</summary>
    public HashSet<int> InsideScriptTransactionAfter { get; } = [];

    public bool RecordsCancellation { get; init; } = true;

    private long _nextId = 1;
    private int _proofs;

    public static Exception Failure(ScriptStatement statement, int number) => new ScriptFailedException(statement, number, "42", "it broke", null, null, null);

    public static Exception Cancellation(ScriptStatement statement, int number) => new OperationCanceledException();

    public Task<IOwnTransaction> BeginTransactionAsync(CancellationToken cancellationToken)
    {
        Calls.Add("begin");
        return Task.FromResult<IOwnTransaction>(new FakeTransaction(this));
    }

    public Task<long> InsertAsync(MigrationStep step, HistoryOutcome outcome, int statementsApplied, string? error, CancellationToken cancellationToken)
    {
        Calls.Add($"insert {outcome} {statementsApplied}");
        var id = _nextId++;
        Rows[id] = new FakeRow(outcome, statementsApplied, error);
        return Task.FromResult(id);
    }

    public Task ExecuteAsync(MigrationStep step, int index, CancellationToken cancellationToken)
    {
        Calls.Add($"execute {index}");
        return Stops.TryGetValue(index, out var stop) ? Task.FromException(stop(step.Script.Statements[index], index + 1)) : Task.CompletedTask;
    }

    public Task<bool> UpdateAsync(long id, MigrationStep step, int statementsApplied, HistoryOutcome outcome, string? error, CancellationToken cancellationToken)
    {
        Calls.Add($"update {outcome} {statementsApplied}");
        Rows[id] = new FakeRow(outcome, statementsApplied, error);
        return Task.FromResult(outcome != HistoryOutcome.Failed && InsideScriptTransactionAfter.Contains(statementsApplied - 1));
    }

    public Task ProveLockAsync(CancellationToken cancellationToken)
    {
        Calls.Add("prove lock");
        return ++_proofs == LockLostAtProof ? Task.FromException(new DeployLockLostException("lost")) : Task.CompletedTask;
    }

    public Task BeginStretchAsync(CancellationToken cancellationToken)
    {
        Calls.Add("begin stretch");
        return Task.CompletedTask;
    }

    public Task EndStretchAsync(CancellationToken cancellationToken)
    {
        Calls.Add("end stretch");
        return Task.CompletedTask;
    }

    public Task RollBackScriptTransactionAsync()
    {
        Calls.Add("rollback script transaction");
        return Task.CompletedTask;
    }

    public ScriptFailedException ScriptTransactionLeftOpen(ScriptStatement opened, int number) =>
        new(opened, number, "left open", "the script's transaction was left open", null, null, null);

    public string Describe(ScriptFailedException failure) => $"statement {failure.StatementNumber}: {failure.ServerMessage}";

    public sealed record FakeRow(HistoryOutcome Outcome, int StatementsApplied, string? Error);

    /// <summary>A migration's own transaction: its claim becomes a row at the commit, and is gone at a rollback.</summary>
    private sealed class FakeTransaction(FakeMigrationSession session) : IOwnTransaction
    {
        private readonly Dictionary<long, FakeRow> _pending = [];

        public Task<long> ClaimAsync(MigrationStep step, CancellationToken cancellationToken)
        {
            session.Calls.Add("claim");
            var id = session._nextId++;
            _pending[id] = new FakeRow(HistoryOutcome.Success, 0, null);
            return Task.FromResult(id);
        }

        public Task ExecuteAsync(MigrationStep step, CancellationToken cancellationToken)
        {
            session.Calls.Add($"execute all {step.Script.Statements.Count}");
            // The first statement told to stop stops the whole batch, as a server's error does.
            var stop = session.Stops.OrderBy(s => s.Key).Select(s => s.Value(step.Script.Statements[s.Key], s.Key + 1)).FirstOrDefault();
            return stop is null ? Task.CompletedTask : Task.FromException(stop);
        }

        public Task CompleteClaimAsync(long claim, MigrationStep step, CancellationToken cancellationToken)
        {
            session.Calls.Add("complete claim");
            _pending[claim] = _pending[claim] with { StatementsApplied = step.Script.Statements.Count };
            return Task.CompletedTask;
        }

        public Task CommitAsync(CancellationToken cancellationToken)
        {
            session.Calls.Add("commit");
            foreach (var (id, row) in _pending)
            {
                session.Rows[id] = row;
            }

            _pending.Clear();
            return Task.CompletedTask;
        }

        public Task RollBackAsync()
        {
            session.Calls.Add("rollback");
            _pending.Clear();
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            session.Calls.Add("dispose");
            _pending.Clear();
            return ValueTask.CompletedTask;
        }
    }
}
