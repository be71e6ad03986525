using System.Numerics.Tensors;

namespace NativeTransformer.Kernels.Sparse;

/// <summary>
/// The oracle for <see cref="SparseGemm"/>: plain loops, one output at a time, with the arithmetic the kernels promise —
/// y[m, n] = fma chain over n's slice steps in order (padding included), then the epilogue on the fixed 64-column
/// segments. Every SIMD path must equal it bit for bit.
/// </summary>
public static unsafe class SparseReference
{
    public static void Compute(ReadOnlySpan<float> x, int m, SparseMatrix w, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual, Span<float> y, Epilogue epilogue)
    {
        int n = w.N, k = w.K;
        for (int r = 0; r < m; r++)
            for (int o = 0; o < n; o++)
            {
                var (start, steps) = w.Slice(o / SparseMatrix.SliceWidth);
                long at = (long)start * SparseMatrix.SliceWidth + o % SparseMatrix.SliceWidth;
                float acc = 0f;
                for (int j = 0; j < steps; j++, at += SparseMatrix.SliceWidth)
                    acc = MathF.FusedMultiplyAdd(w.Values[at], x[r * k + w.Columns[at]], acc);
                y[r * n + o] = acc;
            }
        fixed (float* py = y, pb = bias, pr = residual)
            for (int r = 0; r < m; r++)
                for (int c0 = 0; c0 < n; c0 += SparseGemm.GroupSlices * SparseMatrix.SliceWidth)
                    FinishSegment(py + (long)r * n + c0, Math.Min(SparseGemm.GroupSlices * SparseMatrix.SliceWidth, n - c0),
                        bias.IsEmpty ? null : pb + c0, residual.IsEmpty ? null : pr + (long)r * n + c0, epilogue);
    }

    /// <summary>One segment of a row: + bias, activation, + residual (bias/residual may be null).</summary>
    internal static void FinishSegment(float* y, int len, float* bias, float* residual, Epilogue epilogue)
    {
        var seg = new Span<float>(y, len);
        if (bias != null) TensorPrimitives.Add(seg, new ReadOnlySpan<float>(bias, len), seg);
        if (epilogue != Epilogue.None) Activations.Apply(seg, epilogue);
        if (residual != null) TensorPrimitives.Add(seg, new ReadOnlySpan<float>(residual, len), seg);
    }
}
