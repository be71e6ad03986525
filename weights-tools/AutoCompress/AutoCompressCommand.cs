using NativeTransformer.Compression;
using System.Globalization;
using NativeTransformer.Evaluation;
using NativeTransformer.WeightsTools.Sweep;

namespace NativeTransformer.WeightsTools.AutoCompress;

/// <summary><c>weights-tools autocompress</c>: the smallest (or fastest) folder within an accuracy budget.</summary>
public static class AutoCompressCommand
{
    public const string Usage =
        "usage: weights-tools autocompress --model DIR --task sst2|mrpc|stsb --data FILE --output DIR2 [--max-drop POINTS]\n" +
        "       [--objective bytes|latency] [--sparsity LIST] [--drop-top LIST] [--precision fp32,int8] [--heads LIST] [--ffn LIST]\n" +
        "       [--threads N] [--latency-sentences N] " + RecoverySettings.Usage;

    public const string HelpLine =
        "  autocompress --model DIR --task sst2|mrpc|stsb --data FILE --output DIR2 [--max-drop 1.0] [--objective bytes|latency]\n" +
        "        [--sparsity LIST] [--drop-top LIST] [--precision fp32,int8] [--heads LIST] [--ffn LIST] [--threads N]\n" +
        "                Search precision, layer dropping and pruning greedily on one half of the data (alternate rows), keep\n" +
        "                the best candidate (default objective: bytes) whose score drops at most --max-drop points, report\n" +
        "                it on the other half, and write it to DIR2 with autocompress-report.md/.json listing every candidate.\n" +
        "                Defaults: precision fp32,int8, drop-top 0..L-1, heads 0,0.25,0.5, ffn 0,0.1,0.3,0.5, sparsity 0,0.1,...,0.9.\n" +
        "        [--recover --recover-data FILE [--recover-minutes 10] [--recover-epochs 1] [--recover-lr 1e-4]]\n" +
        "                Then distil the chosen folder from --model on FILE (kl for sst2/mrpc, embedding-mse for stsb; pruned\n" +
        "                zeros kept) and report the score on the report half before and after (before: DIR2/before-recovery).\n" +
        "                Head pruning is not searched with --recover unless --heads is given (training refuses pruned heads).\n";

    public const string ReportName = "autocompress-report";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        bool recover = args.Contains("--recover");
        args = args.Where(x => x != "--recover").ToArray();
        if (ToolArgs.TryParse("autocompress", args, allowPositional: false,
                [.. SweepArgs.CommonOptions, "--output", "--max-drop", "--objective", .. RecoverySettings.OptionNames], out var parsed) is { } error)
            return Fail(stderr, error);
        var recovery = RecoverySettings.TryRead(parsed, recover, out string? recoverError);
        if (recoverError is not null) return Fail(stderr, recoverError);
        string? output = parsed.Get("--output");
        double maxDrop = 1.0;
        if (parsed.Get("--max-drop") is { } md && (!double.TryParse(md, NumberStyles.Float, CultureInfo.InvariantCulture, out maxDrop) || !(maxDrop >= 0 && maxDrop <= 100)))
            return Fail(stderr, $"autocompress: --max-drop must be a number of points from 0 to 100, got '{md}'");
        var objective = parsed.Get("--objective") switch
        {
            null or "bytes" => Objective.Bytes,
            "latency" => Objective.Latency,
            var o => (Objective)(-1),
        };
        if ((int)objective < 0) return Fail(stderr, $"autocompress: unknown objective '{parsed.Get("--objective")}' (known: bytes, latency)");
        if (output is null) return Fail(stderr, "autocompress: --output is required");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            return Fail(stderr, $"autocompress: the output folder '{output}' exists and is not empty");
        // Structured levels searched by default too (the sweep defaults leave them off): mild to aggressive.
        // With --recover, head pruning is off by default: the training pass refuses pruned heads.
        var defaults = SweepCommand.Defaults with { DropTop = [], Heads = recovery is null ? [0, 0.25, 0.5] : [0], Ffn = [0, 0.1, 0.3, 0.5] };
        if (SweepArgs.TryParse("autocompress", parsed, defaults, out var a) is { } bad) return Fail(stderr, bad);
        if (parsed.Get("--drop-top") is null) a = a with { DropTop = Enumerable.Range(0, a.Layers).ToArray() };

        var (selection, report) = AutoCompressSearch.Split(TaskDataReader.ReadFile(a.Task, a.Data));
        if (selection.Count < 2 || report.Count < 1) throw new InputException($"{a.Data}: autocompress needs at least 3 examples to split");
        using var engine = new SweepEngine(a.Model, a.Task, a.Threads);
        var search = new AutoCompressSearch(engine, a, maxDrop, objective, stderr);
        var chosen = search.Run(selection, a.LatencySentences);

        string chosenDir = recovery is null ? output : Path.Combine(output, RecoverySettings.BeforeFolder);
        engine.Materialize(chosen.Point, chosenDir);
        double baselineReport = ReportScore(a.Model, a, SweepPoint.Baseline, report);
        // The written folder itself, loaded as a user would.
        var loadTime = chosen.Point with { DropTop = 0, Sparsity = 0, Heads = 0, Ffn = 0 };
        double chosenReport = ReportScore(chosenDir, a, loadTime, report);
        double? recoveredReport = null;
        string? recoveryJson = null;
        if (recovery is not null)
        {
            recoveryJson = Recover(engine, recovery, a, chosen.Point, chosenDir, output, stderr);
            recoveredReport = ReportScore(output, a, loadTime, report);
            stdout.WriteLine(SweepPoint.F($"autocompress: recovery by distillation from {a.Model}: {a.Task.PrimaryMetric()} on the report half {chosenReport:0.00} -> {recoveredReport:0.00}"));
        }
        var result = new AutoCompressResult(a, maxDrop, objective, selection.Count, report.Count, search.Baseline!, chosen, baselineReport, chosenReport, search.Tried,
            recoveredReport, recoveryJson);
        AutoCompressReport.Write(output, result);
        stdout.WriteLine(SweepPoint.F(
            $"autocompress: chose {chosen.Point.Label} of {search.Tried.Count} candidates: {a.Task.PrimaryMetric()} on the report half {chosenReport:0.00} ") +
            SweepPoint.F($"(baseline {baselineReport:0.00}), ") + SweepPoint.F($"{chosen.Measurement.WeightBytes / 1e6:0.00} MB ({chosen.Measurement.BytesKind}), p50 {chosen.Measurement.P50Ms:0.000} ms -> {Path.GetFullPath(output)}"));
        return 0;
    }

    /// <summary>Trains the chosen point's fp32 form into <paramref name="output"/>'s root, quantizing afterwards when the choice was int8.</summary>
    private static string Recover(SweepEngine engine, RecoverySettings recovery, SweepArgs a, SweepPoint chosen, string chosenDir, string output, TextWriter stderr)
    {
        if (!chosen.IsInt8) return recovery.Run(a.Model, a.Task, a.Threads, chosenDir, output, stderr);
        string start = Path.Combine(output, "recovery-fp32-start"), trained = Path.Combine(output, "recovery-fp32"), quantized = Path.Combine(output, "recovery-int8");
        engine.Materialize(chosen with { Precision = "fp32" }, start);
        string json = recovery.Run(a.Model, a.Task, a.Threads, start, trained, stderr);
        QuantizeFolder.Run(trained, quantized, new QuantizeOptions());
        foreach (var f in Directory.EnumerateFiles(quantized)) File.Move(f, Path.Combine(output, Path.GetFileName(f)));
        // sentence-transformers module folders (1_Pooling, 2_Normalize, …) come along; the training checkpoint (which
        // quantize copied as a subfolder) does not: the fp32 one stays in recovery-fp32 for --resume-style inspection.
        foreach (var d in Directory.EnumerateDirectories(quantized))
            if (!Path.GetFileName(d).StartsWith("checkpoint", StringComparison.Ordinal)) Directory.Move(d, Path.Combine(output, Path.GetFileName(d)));
        foreach (var d in new[] { start, quantized }) Directory.Delete(d, recursive: true);
        return json;
    }

    /// <summary>The score of <paramref name="folder"/> loaded with <paramref name="p"/>'s load-time settings on the report half.</summary>
    private static double ReportScore(string folder, SweepArgs a, SweepPoint p, IReadOnlyList<TaskExample> report)
    {
        using var engine = new SweepEngine(folder, a.Task, a.Threads);
        using var model = TransformerModel.Load(folder, engine.OptionsFor(p));
        return Evaluator.Evaluate(model, a.Task, report).PrimaryPercent;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        stderr.WriteLine("weights-tools: error: " + message + "\n" + Usage);
        return 2;
    }
}
