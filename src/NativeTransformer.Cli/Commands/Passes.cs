using System.Diagnostics;

namespace NativeTransformer.Cli.Commands;

/// <summary>How many passes a benchmark runs: exactly the count asked for, else at least <c>minimum</c> and until
/// <c>seconds</c> have passed, at most 1000 (the default of every --warmup / --iterations that is time-based).</summary>
internal static class Passes
{
    public static bool More(int done, int? asked, int minimum, double seconds, Stopwatch since) =>
        asked is { } n ? done < n : done < minimum || (since.Elapsed.TotalSeconds < seconds && done < 1000);
}
