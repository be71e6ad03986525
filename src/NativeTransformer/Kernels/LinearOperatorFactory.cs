using NativeTransformer.Kernels.Sparse;

namespace NativeTransformer.Kernels;

/// <summary>Whether fp32 Linear layers may use the sparse kernel (<see cref="SparseLinear"/>).</summary>
public enum SparseKernels
{
    /// <summary>Sparse only where <see cref="SparsePolicy"/> (measured on the benchmark) says it is faster than dense.</summary>
    Auto,
    /// <summary>Always the packed dense kernel.</summary>
    Never,
    /// <summary>Sparse for every fp32 Linear, however dense (tests, benchmarks).</summary>
    Always,
}

/// <summary>Builds the fp32 operator for one Linear weight: packed dense, or sparse when the weight is sparse enough to win.</summary>
public static class LinearOperatorFactory
{
    public static LinearOperator Fp32(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures, SparseKernels sparse = SparseKernels.Auto)
    {
        bool useSparse = sparse switch
        {
            SparseKernels.Always => true,
            SparseKernels.Never => false,
            _ => SparsePolicy.ShouldUseSparse(weight, outFeatures, inFeatures),
        };
        return useSparse ? new SparseLinear(weight, bias, outFeatures, inFeatures) : new PackedLinear(weight, bias, outFeatures, inFeatures);
    }
}
