using System.Diagnostics;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>What a fuzz run did: inputs executed, how many the library refused with its typed exception.</summary>
public sealed record FuzzResult(string Target, int Seed, long Inputs, long Refused, TimeSpan Elapsed)
{
    public long Accepted => Inputs - Refused;
    public override string ToString() =>
        $"fuzz {Target}: {Inputs} inputs ({Accepted} accepted, {Refused} refused with a NativeTransformerException) in {Elapsed.TotalSeconds:0.0} s, seed {Seed}";
}

/// <summary>
/// Runs a fuzz target over generated inputs, one at a time on a watchdog-supervised worker thread.
/// </summary>
/// <remarks>
/// <para>Input <c>i</c> is generated from its own <see cref="Random"/> seeded with <see cref="InputSeed"/>(seed, i), so any
/// input can be regenerated from the two numbers in a failure message, independently of the others.</para>
/// <para>Verdicts: returning normally (the target accepted the input and its invariants held) or throwing a
/// <see cref="NativeTransformerException"/> (the library refused it, as documented) pass. Anything else — another
/// exception type, a failed invariant assertion, an input running longer than the time bound (a hang), or an input
/// allocating more than the allocation bound (allocation driven by the input, not bounded by it) — is a defect: the run stops,
/// the input is saved to a temp file and the test fails naming the target, seed, index and that file.</para>
/// <para>Reusable for any target: pass a generator, the target, and how to write an input to a file.</para>
/// </remarks>
public static class FuzzRunner
{
    /// <summary>Default time bound per input: generous because CI machines are shared; real hangs never finish.</summary>
    public static readonly TimeSpan DefaultInputTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Default bound on bytes allocated by the target for one input (on the worker thread).</summary>
    public const long DefaultMaxAllocatedBytes = 256L << 20;

    public static int InputSeed(int seed, long index) =>
        (int)(Mix((ulong)(uint)seed << 32 ^ (ulong)index) & int.MaxValue);

    private static ulong Mix(ulong z) // splitmix64 finalizer: nearby (seed, index) pairs give unrelated seeds
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <param name="target">Name used in messages and saved file names (e.g. "safetensors").</param>
    /// <param name="budget">How many inputs / how long, and the base seed (<see cref="FuzzBudget.For"/>).</param>
    /// <param name="generate">Builds input i from its own seeded random source. Must be deterministic.</param>
    /// <param name="execute">Runs the code under test on the input and asserts its invariants.</param>
    /// <param name="serialize">The input as bytes, for the saved reproduction file.</param>
    /// <param name="fileExtension">Extension of the saved file, e.g. ".safetensors".</param>
    public static FuzzResult Run<T>(string target, FuzzBudget budget, Func<Random, T> generate, Action<T> execute,
        Func<T, byte[]> serialize, string fileExtension = ".bin", ITestOutputHelper? output = null,
        TimeSpan? inputTimeout = null, long maxAllocatedBytes = DefaultMaxAllocatedBytes) where T : class
    {
        var timeout = inputTimeout ?? DefaultInputTimeout;
        var progress = new Progress<T>();
        var clock = Stopwatch.StartNew();
        output?.WriteLine($"fuzz {target}: {budget}");

        var worker = new Thread(() =>
        {
            try
            {
                for (long i = 0; i < budget.MaxInputs && (budget.Duration is not { } d || clock.Elapsed < d); i++)
                {
                    int inputSeed = InputSeed(budget.Seed, i);
                    progress.Begin(i, inputSeed, null, clock.ElapsedTicks);
                    T input = generate(new Random(inputSeed));
                    progress.Begin(i, inputSeed, input, clock.ElapsedTicks);
                    long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                    try { execute(input); }
                    catch (NativeTransformerException) { progress.Refused++; }
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                    if (allocated > maxAllocatedBytes)
                        throw new FuzzAllocationException($"the input made the target allocate {allocated:N0} bytes (bound {maxAllocatedBytes:N0})");
                    progress.Inputs = i + 1;
                }
            }
            catch (Exception e) { progress.Failure = e; }
            finally { progress.Done = true; }
        }) { IsBackground = true, Name = "fuzz-" + target };
        worker.Start();

        while (!worker.Join(TimeSpan.FromMilliseconds(20)))
        {
            var (index, inputSeed, input, startTicks) = progress.Current;
            var running = TimeSpan.FromTicks((long)((clock.ElapsedTicks - startTicks) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency)));
            if (input is not null && running > timeout && !progress.Done)
            {
                // The worker cannot be aborted; it is a background thread and dies with the test process.
                string saved = Save(target, budget.Seed, index, serialize(input), fileExtension);
                throw new XunitException($"fuzz {target}: input #{index} (seed {budget.Seed}, input seed {inputSeed}) ran longer than " +
                    $"{timeout.TotalSeconds:0.#} s (hang or super-linear time); saved to {saved}");
            }
        }

        if (progress.Failure is { } failure)
        {
            var (index, inputSeed, input, _) = progress.Current;
            string saved = input is null ? "(not saved: failed while generating)" : Save(target, budget.Seed, index, serialize(input), fileExtension);
            throw new XunitException($"fuzz {target}: input #{index} (seed {budget.Seed}, input seed {inputSeed}) failed with " +
                $"{failure.GetType().FullName} (only NativeTransformerException subclasses are allowed); saved to {saved}\n{failure}");
        }

        var result = new FuzzResult(target, budget.Seed, progress.Inputs, progress.Refused, clock.Elapsed);
        output?.WriteLine(result.ToString());
        if (Environment.GetEnvironmentVariable("NT_FUZZ_LOG") is { Length: > 0 } log)
            File.AppendAllText(log, $"{DateTime.UtcNow:O} {result}\n");
        return result;
    }

    private static string Save(string target, int seed, long index, byte[] bytes, string extension)
    {
        string path = Path.Combine(Path.GetTempPath(), $"nt-fuzz-{target}-seed{seed}-input{index}{extension}");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private sealed class Progress<T> where T : class
    {
        private (long, int, T?, long) _current;
        private readonly Lock _lock = new();
        public long Inputs, Refused;
        public volatile bool Done;
        public Exception? Failure;

        public void Begin(long index, int seed, T? input, long startTicks) { lock (_lock) _current = (index, seed, input, startTicks); }
        public (long Index, int Seed, T? Input, long StartTicks) Current { get { lock (_lock) return _current; } }
    }
}

/// <summary>An input made the target allocate more than the run's bound.</summary>
public sealed class FuzzAllocationException(string message) : Exception(message);
