using NativeTransformer.Kernels;

namespace NativeTransformer.Training;

/// <summary>
/// The Linear layer y = x·Wᵀ + b (x [M, K], W [N, K] as PyTorch stores it, y [M, N]) and its two gradients, all three
/// through the SIMD <see cref="Gemm"/> kernel (y = a·bᵀ): dX = dY·W is Gemm(dY, Wᵀ), dW = dYᵀ·X is Gemm(dYᵀ, Xᵀ).
/// Only the transposes (O(M·N) copies) are done here. Gemm's value for an element does not depend on the thread split,
/// so every result is bitwise identical for any <c>threads</c>.
/// </summary>
public static class LinearBackward
{
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int m, int n, int k, int threads) =>
        Gemm.Compute(x, w, b, y, m, n, k, threads);

    /// <summary>dX [M, K] = dY [M, N] · W [N, K] (overwrites dX).</summary>
    public static void InputGradient(ReadOnlySpan<float> dY, ReadOnlySpan<float> w, Span<float> dX, int m, int n, int k, int threads)
    {
        var wT = new float[(long)k * n];
        Transpose(w, n, k, wT);
        Gemm.Compute(dY, wT, [], dX, m, k, n, threads);
    }

    /// <summary>dW [N, K] += dYᵀ·X and dB [N] += Σ_rows dY (dB may be empty). Bias sums run in double, in row order.</summary>
    public static void WeightGradient(ReadOnlySpan<float> dY, ReadOnlySpan<float> x, Span<float> dW, Span<float> dB, int m, int n, int k, int threads)
    {
        var dYT = new float[(long)n * m];
        var xT = new float[(long)k * m];
        Transpose(dY, m, n, dYT);
        Transpose(x, m, k, xT);
        var product = new float[(long)n * k];
        Gemm.Compute(dYT, xT, [], product, n, k, m, threads);
        for (int i = 0; i < product.Length; i++) dW[i] += product[i];
        if (dB.IsEmpty) return;
        for (int c = 0; c < n; c++)
        {
            double s = 0;
            for (int r = 0; r < m; r++) s += dY[r * n + c];
            dB[c] += (float)s;
        }
    }

    /// <summary>dst [cols, rows] = srcᵀ for src [rows, cols].</summary>
    public static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                dst[c * rows + r] = src[r * cols + c];
    }
}
