using System.Diagnostics;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Packed;

namespace NativeTransformer.Bench;

/// <summary>One Linear shape: y[M, N] = x[M, K]·W[N, K]ᵀ + b.</summary>
public sealed record GemmCase(int M, int K, int N)
{
    public double Flops => 2.0 * M * N * K;
    public override string ToString() => $"M{M}_K{K}_N{N}";
}

/// <summary>
/// Single-threaded fp32 Linear at BERT shapes: the packed GEMM (auto-selected ISA, and forced Vector256), against the
/// unpacked <see cref="Gemm"/> it replaces. Columns add GFLOP/s and % of the measured single-core FMA peak.
///   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Fp32*'
/// </summary>
[Config(typeof(Fp32GemmConfig))]
public unsafe class Fp32GemmBenchmarks
{
    private static readonly (int K, int N)[] Shapes = [(384, 384), (384, 1536), (1536, 384), (768, 768), (768, 3072), (3072, 768)];

    public static IEnumerable<GemmCase> Cases()
    {
        foreach (int m in new[] { 1, 32, 128, 4096 })
            foreach (var (k, n) in Shapes)
                if (m < 4096 || (long)k * n <= 768 * 768) yield return new GemmCase(m, k, n);
    }

    [ParamsSource(nameof(Cases))]
    public GemmCase Case { get; set; } = new(1, 384, 384);

    private float[] _x = [], _w = [], _b = [], _y = [];
    private PackedMatrix _packed = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        int m = Case.M, k = Case.K, n = Case.N;
        _x = GC.AllocateUninitializedArray<float>(m * k, pinned: true);
        _w = new float[n * k];
        _b = GC.AllocateUninitializedArray<float>(n, pinned: true);
        _y = GC.AllocateUninitializedArray<float>(m * n, pinned: true);
        for (int i = 0; i < _x.Length; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < _w.Length; i++) _w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        for (int i = 0; i < _b.Length; i++) _b[i] = (float)(rng.NextDouble() * 2 - 1);
        _packed = PackedMatrix.Pack(_w, n, k);
    }

    [Benchmark(Description = "Packed")]
    public void Packed()
    {
        fixed (float* x = _x, b = _b, y = _y)
            PackedGemm.Compute(x, Case.M, _packed, b, null, y, Epilogue.None, null);
    }

    [Benchmark(Description = "PackedV256")]
    public void PackedVector256()
    {
        fixed (float* x = _x, b = _b, y = _y)
            PackedGemm.ComputeWith(KernelPath.Vector256, x, Case.M, _packed, b, null, y, Epilogue.None, null);
    }

    [Benchmark(Baseline = true, Description = "Gemm (unpacked)")]
    public void Unpacked() => Gemm.ComputeSerial(_x, _w, _b, _y, Case.M, Case.N, Case.K);
}

/// <summary>A short job (the suite runs in minutes on a shared machine) plus the GFLOP/s and % of peak columns.</summary>
public sealed class Fp32GemmConfig : ManualConfig
{
    public Fp32GemmConfig()
    {
        AddJob(BenchmarkDotNet.Jobs.Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5).WithId("Short"));
        AddColumn(new GflopsColumn(percentOfPeak: false), new GflopsColumn(percentOfPeak: true), new GflopsColumn(percentOfPeak: false, fromMin: true));
        WithOptions(ConfigOptions.JoinSummary);
    }
}

/// <summary>
/// GFLOP/s = 2·M·N·K / mean time (or / the fastest iteration's time: on a shared machine the least disturbed
/// estimate), or the mean-based figure as a % of <see cref="FmaPeak.GflopsPerCore"/>.
/// </summary>
public sealed class GflopsColumn(bool percentOfPeak, bool fromMin = false) : IColumn
{
    public string Id => percentOfPeak ? "PctPeak" : fromMin ? "GFLOPsBest" : "GFLOPs";
    public string ColumnName => percentOfPeak ? $"% peak ({FmaPeak.GflopsPerCore:F0})" : fromMin ? "GFLOP/s best" : "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => percentOfPeak ? 1 : fromMin ? 2 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => percentOfPeak ? "GFLOP/s as % of the measured 1-core FMA peak" : fromMin ? "2·M·N·K / fastest iteration" : "2·M·N·K / mean";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats == null || benchmarkCase.Parameters["Case"] is not GemmCase c) return "-";
        double gflops = c.Flops / (fromMin ? stats.Min : stats.Mean);   // flop per ns = GFLOP/s
        return percentOfPeak ? (100 * gflops / FmaPeak.GflopsPerCore).ToString("F0") : gflops.ToString("F1");
    }
}

/// <summary>
/// Single-core fp32 FMA peak measured with 24 independent register-only FMA chains (no memory traffic), at whatever
/// clock the core actually runs: the honest denominator on a boosting or virtualized CPU.
/// </summary>
public static class FmaPeak
{
    private static readonly Lazy<double> Peak = new(Measure);
    public static double GflopsPerCore => Peak.Value;

    private static double Measure()
    {
        // Many short trials, keep the best: a trial that was not preempted (the machine may be shared) runs at peak.
        double best = 0;
        for (int t = 0; t < 200; t++)
        {
            long iters = 50_000;
            var sw = Stopwatch.StartNew();
            float r = Vector512.IsHardwareAccelerated ? Run512(iters) : Run256(iters);
            double s = sw.Elapsed.TotalSeconds;
            int lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
            best = Math.Max(best, 24.0 * 2 * lanes * iters / s / 1e9 + r * 0);
        }
        return best;
    }

    private static float Run512(long iters)
    {
        var a = Vector512.Create(0.999f); var b = Vector512.Create(1e-7f);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default,
            c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default,
            c16 = default, c17 = default, c18 = default, c19 = default, c20 = default, c21 = default, c22 = default, c23 = default;
        for (long i = 0; i < iters; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b); c2 = Vector512.FusedMultiplyAdd(c2, a, b);
            c3 = Vector512.FusedMultiplyAdd(c3, a, b); c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b); c8 = Vector512.FusedMultiplyAdd(c8, a, b);
            c9 = Vector512.FusedMultiplyAdd(c9, a, b); c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
            c12 = Vector512.FusedMultiplyAdd(c12, a, b); c13 = Vector512.FusedMultiplyAdd(c13, a, b); c14 = Vector512.FusedMultiplyAdd(c14, a, b);
            c15 = Vector512.FusedMultiplyAdd(c15, a, b); c16 = Vector512.FusedMultiplyAdd(c16, a, b); c17 = Vector512.FusedMultiplyAdd(c17, a, b);
            c18 = Vector512.FusedMultiplyAdd(c18, a, b); c19 = Vector512.FusedMultiplyAdd(c19, a, b); c20 = Vector512.FusedMultiplyAdd(c20, a, b);
            c21 = Vector512.FusedMultiplyAdd(c21, a, b); c22 = Vector512.FusedMultiplyAdd(c22, a, b); c23 = Vector512.FusedMultiplyAdd(c23, a, b);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15 + c16 + c17 + c18 + c19 + c20 + c21 + c22 + c23);
    }

    private static float Run256(long iters)
    {
        var a = Vector256.Create(0.999f); var b = Vector256.Create(1e-7f);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default,
            c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < iters * 2; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b); c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b); c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b); c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
