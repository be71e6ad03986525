using System.Globalization;
using NativeTransformer.Evaluation;
using NativeTransformer.Models;

namespace NativeTransformer.WeightsTools.Sweep;

/// <summary>The options sweep and autocompress share: model, task, data, threads, latency sentences and the axis lists.</summary>
public sealed record SweepArgs(
    string Model, EvalTask Task, string Data, int Threads, int LatencySentences,
    double[] Sparsity, double[] Heads, double[] Ffn, int[] DropTop, string[] Precision, int Layers)
{
    public static readonly string[] CommonOptions =
        ["--model", "--task", "--data", "--threads", "--latency-sentences", "--sparsity", "--heads", "--ffn", "--drop-top", "--precision"];

    public static readonly string[] Precisions = ["fp32", "int8"];

    /// <summary>Validates the shared options; the axis defaults are given by the command. Returns null or the error.</summary>
    internal static string? TryParse(string command, ToolArgs a, SweepArgs defaults, out SweepArgs parsed)
    {
        parsed = defaults;
        string? model = a.Get("--model"), data = a.Get("--data"), taskName = a.Get("--task");
        if (model is null) return $"{command}: --model is required";
        if (taskName is null) return $"{command}: --task is required ({string.Join(", ", EvalTasks.Names)})";
        if (!EvalTasks.TryParse(taskName, out var task)) return $"{command}: unknown task '{taskName}' (known: {string.Join(", ", EvalTasks.Names)})";
        if (data is null) return $"{command}: --data is required";
        int threads = defaults.Threads, latency = defaults.LatencySentences;
        if (a.Get("--threads") is { } t && (!int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out threads) || threads < 1))
            return $"{command}: --threads must be a positive integer, got '{t}'";
        if (a.Get("--latency-sentences") is { } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out latency) || latency < 1))
            return $"{command}: --latency-sentences must be a positive integer, got '{l}'";
        if (a.TryGetDoubles(command, "--sparsity", defaults.Sparsity, 0, 1, maxExclusive: true, out var sparsity) is { } e1) return e1;
        if (a.TryGetDoubles(command, "--heads", defaults.Heads, 0, 1, maxExclusive: true, out var heads) is { } e2) return e2;
        if (a.TryGetDoubles(command, "--ffn", defaults.Ffn, 0, 1, maxExclusive: true, out var ffn) is { } e3) return e3;
        if (a.TryGetChoices(command, "--precision", defaults.Precision, Precisions, out var precision) is { } e4) return e4;
        if (!Directory.Exists(model)) return $"{command}: model folder '{model}' not found";
        int layers = ModelConfig.Load(Path.Combine(model, "config.json")).NumLayers;
        if (a.TryGetInts(command, "--drop-top", defaults.DropTop, 0, layers - 1, out var dropTop) is { } e5) return e5 + $" (the model has {layers} layers)";
        parsed = new SweepArgs(model, task, data, threads, latency, sparsity, heads, ffn, dropTop, precision, layers);
        return null;
    }

    /// <summary>Every combination, folder axes outermost so each written folder serves all load-time settings in a row.</summary>
    public IEnumerable<SweepPoint> Grid() =>
        from h in Heads
        from f in Ffn
        from s in Sparsity
        from d in DropTop
        from p in Precision
        select new SweepPoint(p, d, s, h, f);
}
