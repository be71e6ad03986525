using System.Diagnostics;
using NativeTransformer.Evaluation;
using NativeTransformer.WeightsTools.Reports;

namespace NativeTransformer.WeightsTools.Sweep;

/// <summary><c>weights-tools sweep</c>: every combination of the compression axes, measured in one process.</summary>
public static class SweepCommand
{
    public const string Usage =
        "usage: weights-tools sweep --model DIR --task sst2|mrpc|stsb --data FILE [--sparsity LIST] [--heads LIST] [--ffn LIST]\n" +
        "       [--drop-top LIST] [--precision fp32,int8] [--output DIR] [--threads N] [--latency-sentences N]";

    public const string HelpLine =
        "  sweep --model DIR --task sst2|mrpc|stsb --data FILE [--sparsity 0,0.1,...] [--heads LIST] [--ffn LIST]\n" +
        "        [--drop-top 0,1,...] [--precision fp32,int8] [--output DIR] [--threads N] [--latency-sentences N]\n" +
        "                Evaluate every combination in one process and write results.csv, results.md and SVG plots to\n" +
        "                --output (default sweep-<model>-<task>). Defaults: sparsity 0,0.1,...,0.9, precision fp32,int8,\n" +
        "                drop-top 0, heads 0, ffn 0, threads 1, latency on the first 64 examples at batch 1.\n";

    internal static readonly SweepArgs Defaults = new("", EvalTask.Sst2, "", 1, SweepEngine.DefaultLatencySentences,
        [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], [0], [0], [0], ["fp32", "int8"], 0);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (ToolArgs.TryParse("sweep", args, allowPositional: false, [.. SweepArgs.CommonOptions, "--output"], out var parsed) is { } error)
            return Fail(stderr, error);
        if (SweepArgs.TryParse("sweep", parsed, Defaults, out var a) is { } bad) return Fail(stderr, bad);
        string output = parsed.Get("--output") ?? $"sweep-{Path.GetFileName(Path.GetFullPath(a.Model).TrimEnd(Path.DirectorySeparatorChar))}-{a.Task.Name()}";

        var examples = TaskDataReader.ReadFile(a.Task, a.Data);
        var points = a.Grid().ToList();
        var rows = new List<SweepMeasurement>(points.Count);
        var total = Stopwatch.StartNew();
        using (var engine = new SweepEngine(a.Model, a.Task, a.Threads))
        {
            var latencyInputs = engine.LatencyInputs(examples, a.LatencySentences);
            for (int i = 0; i < points.Count; i++)
            {
                var (m, _) = engine.Measure(points[i], examples, latencyInputs);
                rows.Add(m);
                stderr.WriteLine(SweepPoint.F($"sweep [{i + 1}/{points.Count}] {points[i].Label}: {a.Task.PrimaryMetric()} {m.Score:0.00}, p50 {m.P50Ms:0.000} ms, {m.WeightBytes / 1e6:0.00} MB"));
            }
        }
        string metric = a.Task.PrimaryMetric();
        SweepReport.WriteAll(output, metric, rows, $"Sweep of {Path.GetFileName(Path.GetFullPath(a.Model).TrimEnd(Path.DirectorySeparatorChar))} on {a.Task.Name()}", Notes(a, examples.Count));
        stdout.WriteLine($"sweep: {rows.Count} points in {total.Elapsed.TotalSeconds:F1} s -> {Path.GetFullPath(output)} ({SweepReport.CsvFile}, {SweepReport.MarkdownFile}, 3 SVG plots)");
        return 0;
    }

    internal static IEnumerable<string> Notes(SweepArgs a, int n) =>
    [
        $"model `{Path.GetFullPath(a.Model)}`, task {a.Task.Name()} ({a.Task.PrimaryMetric()} in %), data `{a.Data}` ({n} examples)",
        $"latency: p50 of batch-1 calls on the first {Math.Min(a.LatencySentences, n)} examples after {SweepEngine.WarmupSentences} warm-up calls, {a.Threads} thread(s); throughput: examples/s of the evaluation pass (forward batches of 32)",
        "weight bytes: the stored tensor bytes of the folder that would ship (int8: the int8 folder, I8 weights + F32 scales), without the dropped layers. Magnitude pruning keeps dense storage (no byte change).",
        "transforms: heads/ffn = structured pruning (StructuredPruneFolder); sparsity = magnitude pruning per matrix (PruneFolder); int8 = an int8 folder (QuantizeFolder: encoder Linear weights and word embeddings int8); drop-top at load (LoadOptions.DropTopLayers, equal bit for bit to a dropped folder). Sparse fp32 kernels are used where a matrix has >= 80 % zeros (LoadOptions.SparseKernels Auto).",
        $"process peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB",
    ];

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message + "\n" + Usage);
        return 2;
    }
}
