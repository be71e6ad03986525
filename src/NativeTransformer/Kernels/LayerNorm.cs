using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace NativeTransformer.Kernels;

/// <summary>
/// Row-wise layer normalisation over the last dimension: y = (x − mean) / sqrt(var + eps) · gamma + beta,
/// with the biased variance, as torch.nn.LayerNorm. Rows are [rows, width] row-major.
/// </summary>
public static class LayerNorm
{
    /// <summary>In place: x ← LayerNorm(x + residual). <paramref name="residual"/> may be empty (plain LayerNorm).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddResidualAndNormalize(Span<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, int rows, int width, float eps)
    {
        if (x.Length < (long)rows * width || (!residual.IsEmpty && residual.Length < (long)rows * width) || gamma.Length < width || beta.Length < width)
            throw new ArgumentException("LayerNorm: buffers too small");
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            if (!residual.IsEmpty) TensorPrimitives.Add(row, residual.Slice(r * width, width), row);
            NormalizeRow(row, gamma, beta, eps);
        }
    }

    private static void NormalizeRow(Span<float> row, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps)
    {
        int n = row.Length;
        float mean = TensorPrimitives.Sum(row) / n;
        TensorPrimitives.Subtract(row, mean, row);                 // row = x − mean
        float variance = TensorPrimitives.SumOfSquares(row) / n;   // two-pass: no cancellation
        float inv = 1f / MathF.Sqrt(variance + eps);
        TensorPrimitives.Multiply(row, inv, row);
        TensorPrimitives.FusedMultiplyAdd(row, gamma[..n], beta[..n], row);
    }
}

/// <summary>The scalar oracle for <see cref="LayerNorm"/>, in double precision.</summary>
public static class LayerNormReference
{
    public static void AddResidualAndNormalize(Span<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, int rows, int width, float eps)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            if (!residual.IsEmpty) for (int i = 0; i < width; i++) row[i] += residual[r * width + i];
            double mean = 0; for (int i = 0; i < width; i++) mean += row[i]; mean /= width;
            double v = 0; for (int i = 0; i < width; i++) v += (row[i] - mean) * (row[i] - mean); v /= width;
            double inv = 1 / Math.Sqrt(v + eps);
            for (int i = 0; i < width; i++) row[i] = (float)((row[i] - mean) * inv * gamma[i] + beta[i]);
        }
    }
}
