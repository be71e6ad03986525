namespace NativeTransformer.Kernels.Sparse;

/// <summary>When the sparse fp32 kernel beats the packed dense one (placeholder; filled in from the benchmark).</summary>
public static class SparsePolicy
{
    public static bool SparseIsFaster(double sparsity, int outFeatures, int inFeatures) => sparsity >= 0.7;
}
