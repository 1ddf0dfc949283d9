namespace MigrationTasks.Production;

/// <summary>
/// How a migration waits for table locks on a live database. An ALTER TABLE queued behind a long-running reader
/// holds back every later query on that table until it gets its lock: with a short lock timeout it gives up instead,
/// the transaction rolls back, and the runner tries again after a pause that doubles each time (with jitter, so that
/// two runners never retry in step). Defaults (docs/benchmarks.md has the measurement): 2 s per try, 5 tries,
/// pauses of about 1, 2, 4 and 8 s — the application waits at most 2 s behind the runner, and a reader of up to
/// about 20 s is outlasted.
/// </summary>
/// <param name="Timeout">The longest one statement waits for a lock; null: as long as the server lets it (no lock timeout).</param>
/// <param name="Tries">How many times a migration (or the release's transaction) is tried in all.</param>
public sealed record LockWaitPolicy(TimeSpan? Timeout, int Tries, TimeSpan FirstPause, TimeSpan LongestPause)
{
    public static LockWaitPolicy Default { get; } = new(TimeSpan.FromSeconds(2), 5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    /// <summary>The pause after failed try <paramref name="tried"/> (1-based): doubling, capped, between 50% and 100% of it.</summary>
    public TimeSpan PauseAfter(int tried)
    {
        var full = Math.Min(LongestPause.TotalMilliseconds, FirstPause.TotalMilliseconds * Math.Pow(2, tried - 1));
        return TimeSpan.FromMilliseconds(full * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    public override string ToString() => Timeout is { } timeout
        ? $"{timeout.TotalSeconds:0.###} s per try, {Tries} tries"
        : "no lock timeout";
}
