using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NativeTransformer.Kernels;
using NativeTransformer.Kernels.Int8;

namespace NativeTransformer.Bench;

/// <summary>
/// Dynamic-quantization int8 GEMM (QGemm, activations quantized inside the timed call) against the fp32 Gemm.Compute at the
/// same shapes, single thread. Shape = "KxN" of a BERT Linear (K in, N out); M = tokens.
///   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Int8*'
/// GOP/s = 2·M·N·K / mean time. %Peak is against 64 int ops/cycle/core at 2.596 GHz (166 GOP/s): on Zen 4 a 512-bit
/// vpmaddwd (32 MACs) issues once per cycle (two 256-bit multiply pipes, double-pumped), which is also what vpmaddubsw +
/// vpmaddwd(ones) would reach; the clock is the nominal TSC rate (boost is not visible under KVM).
/// </summary>
[Config(typeof(Int8Config))]
public unsafe class Int8GemmBenchmarks
{
    public const double PeakGops = 64 * 2.596;

    private sealed class Int8Config : ManualConfig
    {
        public Int8Config()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5).WithId("short"));
            AddColumn(new GopsColumn(false), new GopsColumn(true));
        }
    }

    [Params(1, 32, 128)]
    public int M;

    [Params("384x384", "384x1536", "1536x384", "768x768", "768x3072", "3072x768")]
    public string Shape = "384x384";

    private int _n, _k;
    private float* _x, _y, _bias;
    private float[] _xa = [], _wa = [], _ba = [], _ya = [];
    private QuantizedMatrix _w = null!;
    private QGemmScratch _scratch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var parts = Shape.Split('x');
        _k = int.Parse(parts[0]); _n = int.Parse(parts[1]);
        var rng = new Random(42);
        _xa = Enumerable.Range(0, M * _k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _wa = Enumerable.Range(0, _n * _k).Select(_ => (float)(rng.NextDouble() * 0.1 - 0.05)).ToArray();
        _ba = Enumerable.Range(0, _n).Select(_ => (float)rng.NextDouble()).ToArray();
        _ya = new float[M * _n];
        _w = QuantizedMatrix.Quantize(_wa, _n, _k);
        _scratch = new QGemmScratch(M, _k);
        _x = (float*)NativeMemory.AlignedAlloc((nuint)(_xa.Length * 4), 64);
        _y = (float*)NativeMemory.AlignedAlloc((nuint)(_ya.Length * 4), 64);
        _bias = (float*)NativeMemory.AlignedAlloc((nuint)(_n * 4), 64);
        _xa.CopyTo(new Span<float>(_x, _xa.Length));
        _ba.CopyTo(new Span<float>(_bias, _n));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_x); NativeMemory.AlignedFree(_y); NativeMemory.AlignedFree(_bias);
    }

    [Benchmark(Baseline = true, Description = "fp32 Gemm")]
    public void Fp32() => Gemm.Compute(_xa, _wa, _ba, _ya, M, _n, _k, threads: 1);

    [Benchmark(Description = "int8 QGemm")]
    public void Int8() => QGemm.Compute(_x, M, _w, _bias, null, _y, Epilogue.None, _scratch, null);

    private sealed class GopsColumn(bool percent) : IColumn
    {
        public string Id => percent ? "PctPeak" : "GOPS";
        public string ColumnName => percent ? "%Peak" : "GOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => percent ? 1 : 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => percent ? $"GOP/s as % of {PeakGops:F0} GOP/s (64 int ops/cycle × 2.596 GHz, one core)" : "2·M·N·K / mean time, 1e9 ops/s";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } stats) return "-";
            int m = (int)benchmarkCase.Parameters["M"];
            var parts = ((string)benchmarkCase.Parameters["Shape"]).Split('x');
            double ops = 2.0 * m * int.Parse(parts[0]) * int.Parse(parts[1]);
            double gops = ops / stats.Mean; // ns → ops/ns = GOP/s
            return percent ? $"{100 * gops / PeakGops:F1}%" : $"{gops:F1}";
        }
    }
}

// Measured once (AMD EPYC Zen 4, 2 vCPU under KVM, load average 5-11 from other jobs: errors of ±20-100%, treat as rough):
// GOP/s, single thread, QGemm (commit ce66641, 4×32 AVX-512 tile) | fp32 Gemm.Compute (same run as the first int8 version)
//   shape KxN   M=1: int8  fp32   M=32: int8  fp32   M=128: int8  fp32
//   384x384         54.4  22.9        108.0  22.8         44.6  27.4
//   384x1536        44.9  11.0        105.3  12.2         47.6  26.6
//   1536x384        54.2  14.7         84.6  28.3         51.7  26.6
//   768x768         52.3  18.6         70.4  23.8         78.1  24.2
//   768x3072        61.4  11.2         75.7  11.9         71.0  14.1
//   3072x768        68.0  12.1        110.1  24.0         65.4  20.7
