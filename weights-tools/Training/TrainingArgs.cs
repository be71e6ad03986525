using System.Globalization;
using NativeTransformer.Training.Loop;

namespace NativeTransformer.WeightsTools.Training;

/// <summary>The options finetune and distill share: the loop's settings, the output, limits and evaluation.</summary>
internal sealed record TrainingArgs(TrainerOptions Trainer, string Data, string Output, bool Resume, string? Eval, long? MaxMemoryBytes)
{
    public static readonly string[] Flags = ["--keep-sparsity", "--resume"];
    public static readonly string[] Options =
        ["--data", "--output", "--epochs", "--batch-size", "--lr", "--warmup-ratio", "--weight-decay", "--max-grad-norm", "--seed", "--threads",
         "--max-minutes", "--max-steps", "--max-length", "--checkpoint-steps", "--checkpoint-minutes", "--eval", "--max-memory", "--dropout"];

    public const string OptionsUsage =
        "--data FILE --output DIR2 [--keep-sparsity] [--epochs N] [--batch-size B] [--lr X] [--warmup-ratio R] [--weight-decay W] [--max-grad-norm G] " +
        "[--seed S] [--threads T] [--max-minutes M] [--max-steps K] [--max-length N] [--checkpoint-steps N] [--checkpoint-minutes M] [--eval DEV.tsv] [--max-memory MiB] [--dropout P] [--resume]";

    /// <summary>Splits the value-less flags off (ToolArgs takes only --name value pairs).</summary>
    public static (string[] Remaining, HashSet<string> Present) SplitFlags(string[] args) =>
        (args.Where(a => !Flags.Contains(a)).ToArray(), args.Where(Flags.Contains).ToHashSet(StringComparer.Ordinal));

    /// <summary>Null on success, else the usage error.</summary>
    public static string? TryRead(string command, ToolArgs a, HashSet<string> flags, out TrainingArgs parsed)
    {
        parsed = null!;
        string? data = a.Get("--data"), output = a.Get("--output");
        if (data is null || output is null) return $"{command}: --data and --output are required";
        var o = new TrainerOptions { KeepSparsity = flags.Contains("--keep-sparsity"), Threads = Environment.ProcessorCount };
        string? err = null;
        int? Int(string name, int min) => a.Get(name) is not { } t ? null
            : int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min ? v : Bad<int?>(ref err, $"{command}: {name} must be an integer ≥ {min}, got '{t}'");
        double? Num(string name, double min, double max) => a.Get(name) is not { } t ? null
            : double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max && double.IsFinite(v) ? v
            : Bad<double?>(ref err, $"{command}: {name} must be a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], got '{t}'");
        if (Int("--epochs", 1) is { } ep) o = o with { Epochs = ep };
        if (Int("--batch-size", 1) is { } bs) o = o with { BatchSize = bs };
        if (Num("--lr", 0, double.MaxValue) is { } lr) o = o with { LearningRate = lr };
        if (Num("--warmup-ratio", 0, 1) is { } wr) o = o with { WarmupRatio = wr };
        if (Num("--weight-decay", 0, 1) is { } wd) o = o with { WeightDecay = wd };
        if (Num("--max-grad-norm", 0, double.MaxValue) is { } g) o = o with { MaxGradNorm = g };
        if (a.Get("--seed") is { } seedText)
        {
            if (ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)) o = o with { Seed = seed };
            else err ??= $"{command}: --seed must be a non-negative integer, got '{seedText}'";
        }
        if (Int("--threads", 1) is { } th) o = o with { Threads = Math.Min(th, 1024) };
        if (Num("--max-minutes", 0, 1e7) is { } mm) o = o with { MaxMinutes = mm };
        if (Int("--max-steps", 1) is { } msteps) o = o with { MaxSteps = msteps };
        if (Num("--dropout", 0, 0.99) is { } dp) o = o with { Dropout = dp };
        if (Int("--max-length", 2) is { } ml) o = o with { MaxLength = ml };
        if (Int("--checkpoint-steps", 1) is { } cs) o = o with { CheckpointEverySteps = cs };
        if (Num("--checkpoint-minutes", 0, 1e7) is { } cm) o = o with { CheckpointEveryMinutes = cm };
        long? maxMemory = Num("--max-memory", 1, 1e9) is { } mib ? (long)(mib * 1048576) : null;
        if (err is not null) return err;
        parsed = new TrainingArgs(o with { CheckpointDirectory = Path.Combine(Path.GetFullPath(output), "checkpoint") }, data, output,
            flags.Contains("--resume"), a.Get("--eval"), maxMemory);
        return null;
    }

    private static T Bad<T>(ref string? error, string message)
    {
        error ??= message;
        return default!;
    }
}
