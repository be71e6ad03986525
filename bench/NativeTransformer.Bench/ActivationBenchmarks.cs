using BenchmarkDotNet.Attributes;
using NativeTransformer.Kernels;

namespace NativeTransformer.Bench;

/// <summary>
/// The GELUs in place, as the fp32 GEMM epilogue runs them: one 64-column output segment (in L1, just written by the
/// micro-kernel) and one 1,536-wide FFN row. Values in [−4, 4), the range FFN pre-activations occupy.
///   dotnet run -c Release --project bench/NativeTransformer.Bench -- --filter '*Activation*'
/// </summary>
public class ActivationBenchmarks
{
    [Params(64, 1536)] public int Length { get; set; }

    private float[] _source = [], _x = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(11);
        _source = new float[Length];
        for (int i = 0; i < Length; i++) _source[i] = (float)(rng.NextDouble() * 8 - 4);
        _x = new float[Length];
    }

    // The copy restores the inputs (GELU is in place); it is the same in every case and ~5 % of the erf case at 64.
    [Benchmark(Baseline = true)]
    public void Gelu() { _source.CopyTo(_x, 0); Activations.Gelu(_x); }

    [Benchmark]
    public void GeluTanh() { _source.CopyTo(_x, 0); Activations.GeluTanh(_x); }

    [Benchmark]
    public void CopyOnly() => _source.CopyTo(_x, 0);
}
