namespace NativeTransformer.Kernels.Sparse;

/// <summary>fp32 over a weight stored sparse (<see cref="SparseMatrix"/>, <see cref="SparseGemm"/>); chosen by
/// <see cref="LinearOperatorFactory"/> only where <see cref="SparsePolicy"/> says it beats the packed dense GEMM.</summary>
public sealed unsafe class SparseLinear : LinearOperator
{
    public SparseMatrix Weights { get; }

    public SparseLinear(SparseMatrix weights, ReadOnlySpan<float> bias) : base(weights.K, weights.N, bias) => Weights = weights;

    public SparseLinear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures)
        : this(SparseMatrix.FromDense(weight, outFeatures, inFeatures), bias) { }

    public override string Kind => "fp32-sparse";
    public override string Isa => SparseGemm.Isa;
    public override long OwnedBytes => Weights.Bytes + BiasBytes;

    public override void Forward(float* x, int rows, float* y, Epilogue epilogue, float* residual, KernelContext context) =>
        SparseGemm.Compute(x, rows, Weights, Bias, residual, y, epilogue, context.Pool);
}
