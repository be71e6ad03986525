namespace NativeTransformer.Kernels.Packed;

/// <summary>A Linear weight W [N, K] (PyTorch [out, in]) repacked once at load into the fp32 micro-kernel's panel layout. (Contract stub.)</summary>
public sealed class PackedMatrix
{
    public static PackedMatrix Pack(ReadOnlySpan<float> w, int n, int k) => throw new NotImplementedException();
    public int N => throw new NotImplementedException();
    public int K => throw new NotImplementedException();
    /// <summary>Bytes held by the packed panels.</summary>
    public long Bytes => throw new NotImplementedException();
}

/// <summary>fp32 GEMM over packed weights. (Contract stub.)</summary>
public static unsafe class PackedGemm
{
    /// <summary>Which SIMD path runs on this machine: "avx512", "avx2", "vector128" or "scalar".</summary>
    public static string Isa => throw new NotImplementedException();

    /// <summary>
    /// y[m, n] = act(Σₖ x[m, k]·W[n, k] + bias[n]) + residual[m, n]. x is [M, K] row-major, y and residual [M, N];
    /// bias and residual may be null. Work is split over <paramref name="pool"/> (null = single thread); each element
    /// is computed by the same operation sequence whatever the split, so results are bitwise identical for any thread count.
    /// </summary>
    public static void Compute(float* x, int m, PackedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, WorkerPool? pool)
        => throw new NotImplementedException();
}
