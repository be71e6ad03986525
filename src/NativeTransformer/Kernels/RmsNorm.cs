using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace NativeTransformer.Kernels;

/// <summary>
/// Row-wise root-mean-square normalisation over the last dimension: y = x / sqrt(mean(x²) + eps) · weight, with no
/// mean subtraction and no bias (Zhang &amp; Sennrich 2019; T5's LayerNorm). Rows are [rows, width] row-major.
/// </summary>
public static class RmsNorm
{
    /// <summary>In place on <paramref name="rows"/> rows of <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Normalize(Span<float> x, ReadOnlySpan<float> weight, int rows, int width, float eps)
    {
        if (x.Length < (long)rows * width || weight.Length < width) throw new ArgumentException("RmsNorm: buffers too small");
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / width + eps);
            TensorPrimitives.Multiply(row, inv, row);
            TensorPrimitives.Multiply(row, weight[..width], row);
        }
    }
}

/// <summary>The scalar oracle for <see cref="RmsNorm"/>, in double precision.</summary>
public static class RmsNormReference
{
    public static void Normalize(Span<float> x, ReadOnlySpan<float> weight, int rows, int width, float eps)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            double squares = 0;
            for (int i = 0; i < width; i++) squares += (double)row[i] * row[i];
            double inv = 1 / Math.Sqrt(squares / width + eps);
            for (int i = 0; i < width; i++) row[i] = (float)(row[i] * inv * weight[i]);
        }
    }
}
