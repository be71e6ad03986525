namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// How long a fuzz target runs and from which seed. By default a short, fixed-seed run (the CI run: the same inputs
/// every time). Environment variables turn the same tests into a long run:
/// <list type="bullet">
/// <item><c>NT_FUZZ_SECONDS=600</c>: run each target for that many seconds;</item>
/// <item><c>NT_FUZZ_ITERATIONS=100000</c>: run each target for that many inputs;</item>
/// <item><c>NT_FUZZ_SEED=123</c>: the base seed (a long run without it derives one from the clock and prints it);</item>
/// <item><c>NT_FUZZ_LOG=/path</c>: append one summary line per target (inputs run, seed, elapsed) to that file.</item>
/// </list>
/// </summary>
public sealed record FuzzBudget(long MaxInputs, TimeSpan? Duration, int Seed, bool IsLongRun)
{
    public static FuzzBudget For(int ciInputs, int ciSeed)
    {
        double? seconds = Number("NT_FUZZ_SECONDS");
        double? iterations = Number("NT_FUZZ_ITERATIONS");
        int? seed = Number("NT_FUZZ_SEED") is { } s ? (int)s : null;
        if (seconds is null && iterations is null)
            return new FuzzBudget(ciInputs, null, seed ?? ciSeed, IsLongRun: false);
        return new FuzzBudget(
            iterations is { } n ? (long)n : long.MaxValue,
            seconds is { } sec ? TimeSpan.FromSeconds(sec) : null,
            seed ?? (int)(DateTime.UtcNow.Ticks % int.MaxValue),
            IsLongRun: true);
    }

    private static double? Number(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v : throw new InvalidOperationException($"{name}='{text}' is not a non-negative number")
            : null;

    public override string ToString() =>
        IsLongRun ? $"long run: seed {Seed}, {(Duration is { } d ? $"{d.TotalSeconds:0} s" : "")}{(MaxInputs < long.MaxValue ? $" max {MaxInputs} inputs" : "")}"
                  : $"CI run: seed {Seed}, {MaxInputs} inputs";
}
