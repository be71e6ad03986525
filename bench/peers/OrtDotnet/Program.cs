using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;
using NativeTransformer.Bench.Peers;

// .NET in-process peers of bench/peers (run by `bench/peers/run.sh --real`, which sets the paths):
//   latency [BenchmarkDotNet args]   ours vs ONNX Runtime (NuGet) encoder latency, BenchmarkDotNet (LatencyBenchmarks)
//   stsb --engine ours|ort|st --precision fp32|int8 --threads T --model DIR --onnx F --onnx-int8 F --data sts-test.csv
//        [--batch 32] [--passes 3] [--embeddings OUT.f32]         real-text sentences/s (StsbBenchmark), one engine
//   agree --reference ours.f32 FILE...                           cosine of each engine's embeddings with ours
string cmd = args.Length > 0 ? args[0] : "";
switch (cmd)
{
    case "latency":
    {
        int iterations = int.Parse(Environment.GetEnvironmentVariable("NTB_ITERATIONS") ?? "15");
        // One call per iteration (no unrolling), so p50/p90 are over single forward passes like the other peers.
        var job = Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(iterations)
            .WithInvocationCount(1).WithUnrollFactor(1).WithStrategy(RunStrategy.Monitoring);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(StatisticColumn.Median, StatisticColumn.P90, StatisticColumn.Min)
            .AddExporter(new CsvExporter(CsvSeparator.Comma, SummaryStyle.Default.WithTimeUnit(TimeUnit.Millisecond)))
            .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .WithSummaryStyle(SummaryStyle.Default.WithTimeUnit(TimeUnit.Millisecond))
            .WithOptions(ConfigOptions.JoinSummary)
            // The generated boilerplate project is built once per run; BenchmarkDotNet's default 2-minute build timeout
            // is not enough on a busy 2-core machine (seen at load average ~27).
            .WithBuildTimeout(TimeSpan.FromMinutes(15));
        if (Environment.GetEnvironmentVariable("NTB_ARTIFACTS") is { Length: > 0 } artifacts) config = config.WithArtifactsPath(artifacts);
        BenchmarkRunner.Run<LatencyBenchmarks>(config, args[1..]);
        return 0;
    }
    case "stsb":
        return StsbBenchmark.Run(Options(args[1..], out _));
    case "agree":
    {
        var o = Options(args[1..], out var files);
        return StsbBenchmark.Agree(o, files);
    }
    default:
        Console.Error.WriteLine("usage: OrtDotnet latency | stsb --engine ours|ort|st ... | agree --reference F FILE...");
        return 2;
}

static Dictionary<string, string> Options(string[] a, out List<string> positional)
{
    var o = new Dictionary<string, string>();
    positional = [];
    for (int i = 0; i < a.Length; i++)
    {
        if (!a[i].StartsWith("--")) { positional.Add(a[i]); continue; }
        if (i + 1 >= a.Length) throw new ArgumentException($"{a[i]} needs a value");
        o[a[i][2..]] = a[++i];
    }
    return o;
}
