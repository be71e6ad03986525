using System.Numerics.Tensors;

namespace NativeTransformer.Kernels;

/// <summary>
/// The element-wise "norm" some compact encoders use in place of LayerNorm (no statistics): y = (x + residual)·gamma + beta
/// per row of [rows, width], multiply then add, each rounded to float as PyTorch's x * weight + bias does.
/// </summary>
public static class NoNorm
{
    /// <summary>In place: x ← (x + residual)·gamma + beta. <paramref name="residual"/> may be empty.</summary>
    public static void AddResidualAndScale(Span<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, int rows, int width)
    {
        if (x.Length < (long)rows * width || (!residual.IsEmpty && residual.Length < (long)rows * width) || gamma.Length < width || beta.Length < width)
            throw new ArgumentException("NoNorm: buffers too small");
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            if (!residual.IsEmpty) TensorPrimitives.Add(row, residual.Slice(r * width, width), row);
            TensorPrimitives.Multiply(row, gamma[..width], row);
            TensorPrimitives.Add(row, beta[..width], row);
        }
    }
}

/// <summary>The scalar oracle for <see cref="NoNorm"/>.</summary>
public static class NoNormReference
{
    public static void AddResidualAndScale(Span<float> x, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, int rows, int width)
    {
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < width; i++)
            {
                float v = x[r * width + i];
                if (!residual.IsEmpty) v += residual[r * width + i];
                float scaled = v * gamma[i];
                x[r * width + i] = scaled + beta[i];
            }
    }
}
