using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Int8;
using NativeTransformer.Kernels.Sparse;

namespace NativeTransformer.Bench;

/// <summary>One Linear at one kernel: "dense" (fp32 packed), "int8" (QuantizedLinear, dense weights), or "sparse 0.90"
/// (SparseLinear over the weight magnitude-pruned to that sparsity).</summary>
public sealed record SparseCase(int M, int Out, int In, string Kernel)
{
    /// <summary>Short enough (≤ 20 characters) that BenchmarkDotNet does not elide it: "M128 3072x768 s0.90".</summary>
    public override string ToString() => $"M{M} {Out}x{In} {(Kernel.StartsWith("sparse") ? "s" + Kernel[7..] : Kernel)}";
}

/// <summary>
/// Does unstructured sparsity beat dense? One thread, y[M, Out] = x·Wᵀ + b with W [Out, In] magnitude-pruned
/// (the smallest |w| set to zero) for the sparse rows; "vs dense" = dense time / this time at the same M and shape
/// (from the fastest iteration — the least disturbed on a shared machine — and from the mean).
///   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Sparse*'
///
/// Measured (AMD EPYC Zen 4, AVX-512, 2 cores, .NET 10.0.12, one thread; the machine was shared with other builds:
/// `uptime` load average 16.8 at the start, 14.3 at the end — so ratios are ±30 %, compare only within this one run).
/// "vs dense (best)" = dense time / this time, fastest iterations:
///   M    shape [Out×In]   int8   s0.50  s0.70  s0.80  s0.90  s0.95
///   1    1024×256         2.07   0.18   0.20   0.65   1.13   1.35
///   1    256×1024         3.01   0.25   0.31   0.38   0.93   1.19
///   1    1536×384         2.43   0.20   0.25   0.37   0.93   1.16
///   1    3072×768         2.43   0.24   0.39   0.51   1.06   1.81
///   16   1024×256         0.84   0.84   1.07   1.32   1.77   3.10
///   16   256×1024         1.62   1.54   1.52   2.76   3.75   5.77
///   16   1536×384         0.83   0.56   1.14   1.68   2.00   6.38
///   16   3072×768         1.50   0.63   1.75   2.53   3.79   9.99
///   128  1024×256         1.54   1.10   1.37   1.83   3.20   3.84
///   128  256×1024         1.87   0.66   0.89   1.35   2.21   2.76
///   128  1536×384         1.02   0.36   1.25   1.45   2.08   4.29
///   128  3072×768         1.27   0.60   0.88   1.28   2.55   10.62
/// Dense fp32 means at the same time: M=128 1024×256 1.85 ms, 3072×768 13.7 ms (the load slowed it ~2.5× from quiet).
/// Crossover: ~0.7–0.8 zeros for M ≥ 16, ~0.9–0.95 for M = 1 → <see cref="SparsePolicy"/>.
/// </summary>
[Config(typeof(SparseGemmConfig))]
public unsafe class SparseGemmBenchmarks
{
    private static readonly (int Out, int In)[] Shapes = [(1024, 256), (256, 1024), (1536, 384), (3072, 768)];
    private static readonly double[] Sparsities = [0.5, 0.7, 0.8, 0.9, 0.95];

    public static IEnumerable<SparseCase> Cases()
    {
        foreach (int m in new[] { 1, 16, 128 })
            foreach (var (o, i) in Shapes)
            {
                yield return new SparseCase(m, o, i, "dense");
                yield return new SparseCase(m, o, i, "int8");
                foreach (double s in Sparsities) yield return new SparseCase(m, o, i, $"sparse {s:F2}");
            }
    }

    [ParamsSource(nameof(Cases))]
    public SparseCase Case { get; set; } = new(1, 1024, 256, "dense");

    private float[] _x = [], _y = [];
    private LinearOperator _op = null!;
    private KernelContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        int m = Case.M, n = Case.Out, k = Case.In;
        _x = GC.AllocateArray<float>(m * k, pinned: true);
        _y = GC.AllocateArray<float>(m * n, pinned: true);
        for (int i = 0; i < _x.Length; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        var b = new float[n];
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
        _context = new KernelContext(null, new QGemmScratch(m, k));
        _op = Case.Kernel switch
        {
            "dense" => new PackedLinear(w, b, n, k),
            "int8" => new QuantizedLinear(w, b, n, k),
            _ => new SparseLinear(MagnitudePrune(w, double.Parse(Case.Kernel["sparse ".Length..], System.Globalization.CultureInfo.InvariantCulture)), b, n, k),
        };
    }

    /// <summary>Zeroes the <paramref name="sparsity"/> fraction of smallest-magnitude entries (ties broken by position).</summary>
    internal static float[] MagnitudePrune(float[] w, double sparsity)
    {
        var order = Enumerable.Range(0, w.Length).OrderBy(i => MathF.Abs(w[i])).ThenBy(i => i).ToArray();
        var pruned = (float[])w.Clone();
        for (int i = 0; i < (int)Math.Round(sparsity * w.Length); i++) pruned[order[i]] = 0f;
        return pruned;
    }

    [Benchmark(Description = "Linear")]
    public void Linear()
    {
        fixed (float* x = _x, y = _y) _op.Forward(x, Case.M, y, Epilogue.None, null, _context);
    }
}

/// <summary>Short job (the 84 cases run in a few minutes) plus the speed-up over dense at the same M and shape.</summary>
public sealed class SparseGemmConfig : ManualConfig
{
    public SparseGemmConfig()
    {
        AddJob(BenchmarkDotNet.Jobs.Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(100)).WithId("Short"));
        AddColumn(new VsDenseColumn(fromMin: true), new VsDenseColumn(fromMin: false));
        WithOptions(ConfigOptions.JoinSummary);
    }
}

/// <summary>Dense fp32 time / this case's time, for the same M and shape (&gt; 1: faster than dense).</summary>
public sealed class VsDenseColumn(bool fromMin) : IColumn
{
    public string Id => fromMin ? "VsDenseBest" : "VsDenseMean";
    public string ColumnName => fromMin ? "vs dense (best)" : "vs dense (mean)";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => fromMin ? 0 : 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "dense fp32 packed time / this time, same M and shape (fastest iteration, or mean)";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Parameters["Case"] is not SparseCase c || summary[benchmarkCase]?.ResultStatistics is not { } stats) return "-";
        var dense = summary.BenchmarksCases.FirstOrDefault(b => b.Parameters["Case"] is SparseCase d
            && d.M == c.M && d.Out == c.Out && d.In == c.In && d.Kernel == "dense");
        if (dense == null || summary[dense]?.ResultStatistics is not { } ds) return "-";
        return (fromMin ? ds.Min / stats.Min : ds.Mean / stats.Mean).ToString("F2");
    }
}
