namespace NativeTransformer.Kernels.Sparse;

/// <summary>fp32 over a weight stored sparse (<see cref="SparseMatrix"/>, <see cref="SparseGemm"/>); chosen by
/// <see cref="LinearOperatorFactory"/> only where <see cref="SparsePolicy"/> says it beats the packed dense GEMM.</summary>
public sealed unsafe class SparseLinear : LinearOperator
{
    private readonly float[] _bias; // pinned

    public SparseMatrix Weights { get; }

    public SparseLinear(SparseMatrix weights, ReadOnlySpan<float> bias) : base(weights.K, weights.N)
    {
        Weights = weights;
        _bias = Pinned.Copy(bias);
    }

    public SparseLinear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outFeatures, int inFeatures)
        : this(SparseMatrix.FromDense(weight, outFeatures, inFeatures), bias) { }

    public override string Kind => "fp32-sparse";
    public override string Isa => SparseGemm.Isa;
    public override long OwnedBytes => Weights.Bytes + _bias.Length * sizeof(float);

    public override void Forward(float* x, int rows, float* y, Epilogue epilogue, float* residual, KernelContext context)
    {
        fixed (float* b = _bias) SparseGemm.Compute(x, rows, Weights, _bias.Length == 0 ? null : b, residual, y, epilogue, context.Pool);
    }
}
