namespace NativeTransformer.Kernels.Int8;

/// <summary>A Linear weight W [N, K] quantized per output channel (symmetric int8, scale = max|W[n,:]|/127) and packed once. (Contract stub.)</summary>
public sealed class QuantizedMatrix
{
    public static QuantizedMatrix Quantize(ReadOnlySpan<float> w, int n, int k) => throw new NotImplementedException();
    /// <summary>From already quantized values (e.g. an int8 checkpoint): q [N, K], one scale per row.</summary>
    public static QuantizedMatrix FromInt8(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int n, int k) => throw new NotImplementedException();
    public int N => throw new NotImplementedException();
    public int K => throw new NotImplementedException();
    public long Bytes => throw new NotImplementedException();
    /// <summary>W ≈ q · scale, as fp32 [N, K] (tests and weight tools).</summary>
    public float[] Dequantize() => throw new NotImplementedException();
}

/// <summary>Per-call buffers of the int8 GEMM (quantized activations and their row scales), sized once. (Contract stub.)</summary>
public sealed class QGemmScratch
{
    public QGemmScratch(int maxRows, int maxK) => throw new NotImplementedException();
}

/// <summary>Dynamic-quantization int8 GEMM. (Contract stub.)</summary>
public static unsafe class QGemm
{
    /// <summary>Which path runs here: "avxvnni", "avx512bw", "avx2" or "scalar".</summary>
    public static string Isa => throw new NotImplementedException();

    /// <summary>
    /// y[m, n] ≈ act(x[m,:]·W[n,:] + bias[n]) + residual[m, n] with x quantized per row at run time and W per channel at load;
    /// int32 accumulation, dequantized with the fused scale product. Same null/threading/determinism rules as PackedGemm.
    /// </summary>
    public static void Compute(float* x, int m, QuantizedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, QGemmScratch scratch, WorkerPool? pool)
        => throw new NotImplementedException();
}
