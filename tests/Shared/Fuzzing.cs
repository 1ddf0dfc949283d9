using System.Diagnostics;
using System.Globalization;

namespace MigrationTasks.Testing;

/// <summary>
/// Bounded fuzzing for NUnit tests (category <see cref="Category"/>). Each run checks inputs from a fixed seed, so CI
/// always covers the same ones, and then from a fresh seed printed in the test output, so that a failure seen once
/// can be replayed with <see cref="SeedVariable"/>. Every input runs under a watchdog: one that takes longer than
/// <see cref="InputTimeout"/> fails the test as a hang. A failing input is saved under the test's work folder, in
/// <c>fuzz-failures/</c>, with its seed and index in the name; <c>bench/fuzz.sh</c> prints them.
/// </summary>
internal static class Fuzzing
{
    public const string Category = "Fuzz";

    /// <summary>Seconds each fuzz test spends on fresh-seed inputs instead of its CI count (set by <c>bench/fuzz.sh</c>).</summary>
    public const string SecondsVariable = "MIGRATIONTASKS_FUZZ_SECONDS";

    /// <summary>Replays a fresh seed printed by an earlier run.</summary>
    public const string SeedVariable = "MIGRATIONTASKS_FUZZ_SEED";

    private const int FixedSeed = 20_260_101;

    public static readonly TimeSpan InputTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Checks <paramref name="inputs"/> inputs of the fixed seed, then as many of a fresh seed (or, with
    /// <see cref="SecondsVariable"/>, as many as fit in that many seconds). <paramref name="check"/> throws when the
    /// property does not hold; anything it throws fails the test with the input saved.
    /// </summary>
    /// <param name="generate">Makes input number i of a seed from a random source seeded by both, so any one input
    /// can be made again without the ones before it.</param>
    /// <param name="bytes">The input as it is saved to a file.</param>
    public static void Run<T>(string name, int inputs, Func<Random, T> generate, Action<T> check, Func<T, byte[]> bytes)
    {
        var freshSeed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } replay
            ? int.Parse(replay, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        var seconds = Environment.GetEnvironmentVariable(SecondsVariable) is { Length: > 0 } budget
            ? double.Parse(budget, CultureInfo.InvariantCulture)
            : (double?)null;
        TestContext.Out.WriteLine($"{name}: fresh seed {freshSeed} (replay with {SeedVariable}={freshSeed})");

        RunSeed(name, FixedSeed, inputs, null, generate, check, bytes);
        RunSeed(name, freshSeed, seconds is null ? inputs : int.MaxValue, seconds is { } s ? TimeSpan.FromSeconds(s) : null, generate, check, bytes);
    }

    /// <summary>The same for a fixed list of inputs (e.g. every prefix of a file), each under the watchdog.</summary>
    public static void RunAll<T>(string name, IEnumerable<T> inputs, Action<T> check, Func<T, byte[]> bytes)
    {
        using var enumerator = inputs.GetEnumerator();
        RunSeed(name, 0, int.MaxValue, null, _ => enumerator.MoveNext() ? enumerator.Current : throw new EndOfInputs(), check, bytes);
    }

    /// <summary>Fails the property with <paramref name="message"/> unless <paramref name="condition"/> holds.</summary>
    /// <remarks>Not NUnit's Assert: checks run on the watchdog's worker thread, and a failure is reported once, with its input.</remarks>
    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new PropertyBroken(message);
        }
    }

    private static void RunSeed<T>(
        string name, int seed, int inputs, TimeSpan? duration, Func<Random, T> generate, Action<T> check, Func<T, byte[]> bytes)
    {
        var watchdog = new Watchdog();
        var clock = Stopwatch.StartNew();
        var worker = Task.Factory.StartNew(
            () =>
            {
                for (var index = 0; index < inputs && (duration is null || clock.Elapsed < duration); index++)
                {
                    T input;
                    try
                    {
                        input = generate(new Random(InputSeed(seed, index)));
                    }
                    catch (EndOfInputs)
                    {
                        return null;
                    }
                    catch (Exception e)
                    {
                        return new Failure(index, null, new InvalidOperationException("the generator itself failed", e));
                    }

                    watchdog.Started(index, input);
                    try
                    {
                        check(input);
                    }
                    catch (Exception e)
                    {
                        return new Failure(index, input, e);
                    }

                    watchdog.Finished();
                }

                return (Failure?)null;
            },
            TaskCreationOptions.LongRunning);

        while (!worker.Wait(TimeSpan.FromMilliseconds(50)))
        {
            if (watchdog.Hung(InputTimeout) is { } hung)
            {
                var file = Save(name, seed, hung.Index, bytes((T)hung.Input!));
                Assert.Fail($"{name}: input {hung.Index} of seed {seed} ran for more than {InputTimeout.TotalSeconds} s (a hang); {file}");
            }
        }

        if (worker.Result is { } failure)
        {
            var file = failure.Input is T input ? Save(name, seed, failure.Index, bytes(input)) : "nothing to save";
            Assert.Fail($"{name}: input {failure.Index} of seed {seed} broke the property ({file}): {failure.Error}");
        }

        var (count, slowest) = (watchdog.Count, watchdog.Slowest);
        TestContext.Out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{name}: seed {seed}: {count} inputs in {clock.Elapsed.TotalSeconds:0.00} s ({count / Math.Max(clock.Elapsed.TotalSeconds, 0.001):0} per second), " +
            $"slowest {slowest.Duration.TotalMilliseconds:0} ms (input {slowest.Index})"));
    }

    // Not HashCode.Combine, which is seeded anew in every process: a replayed seed must make the same inputs.
    private static int InputSeed(int seed, int index) => unchecked((seed * 1_000_003) ^ (index * (int)0x9E3779B9));

    private static string Save(string name, int seed, int index, byte[] input)
    {
        var folder = Path.Combine(TestContext.CurrentContext.WorkDirectory, "fuzz-failures");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{name}-seed{seed}-input{index}.bin"));
        File.WriteAllBytes(file, input);
        return "saved to " + file;
    }

    private sealed record Failure(int Index, object? Input, Exception Error);

    private sealed class EndOfInputs : Exception;

    private sealed class PropertyBroken(string message) : Exception(message);

    /// <summary>What the worker is doing, read by the test's thread to tell a slow input from a hung one.</summary>
    private sealed class Watchdog
    {
        private readonly object _gate = new();
        private readonly Stopwatch _current = new();
        private int _index = -1;
        private object? _input;

        public void Started(int index, object? input)
        {
            lock (_gate)
            {
                (_index, _input) = (index, input);
                _current.Restart();
            }
        }

        public int Count { get; private set; }

        /// <summary>The longest any input took, and which.</summary>
        public (TimeSpan Duration, int Index) Slowest { get; private set; }

        public void Finished()
        {
            lock (_gate)
            {
                if (_current.Elapsed > Slowest.Duration)
                {
                    Slowest = (_current.Elapsed, _index);
                }

                _current.Reset();
                Count++;
            }
        }

        public (int Index, object? Input)? Hung(TimeSpan timeout)
        {
            lock (_gate)
            {
                return _current.IsRunning && _current.Elapsed > timeout ? (_index, _input) : null;
            }
        }
    }
}
