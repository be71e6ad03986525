using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NativeTransformer.Kernels;

/// <summary>
/// Numerically stable softmax over one row, restricted to the first <c>valid</c> entries: entries at
/// and after <c>valid</c> get probability 0. This is how the attention mask is applied for right-padded
/// batches; it equals Hugging Face's additive mask of finfo.min, whose exp underflows to exactly 0.
/// </summary>
public static class Softmax
{
    /// <summary>
    /// softmax(scale · row[..valid]) in place, zeros after <c>valid</c>: one pass for the max, one for
    /// exp(scale·(x − max)) and its sum (inlined vector exp), one to normalise. <paramref name="scale"/> &gt; 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaledMaskedRow(Span<float> row, int valid, float scale)
    {
        if (valid <= 0 || valid > row.Length) throw new ArgumentOutOfRangeException(nameof(valid), "softmax needs at least one unmasked entry");
        if (!(scale > 0)) throw new ArgumentOutOfRangeException(nameof(scale));
        var live = row[..valid];
        float max = TensorPrimitives.Max(live);
        float sum = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && valid >= 8)
        {
            var vmax = Vector256.Create(max); var vscale = Vector256.Create(scale); var vsum = Vector256<float>.Zero;
            for (; i + 8 <= valid; i += 8)
            {
                var e = VectorMath.ExpNonPositive((Vector256.Create(live.Slice(i, 8)) - vmax) * vscale);
                vsum += e;
                e.CopyTo(live.Slice(i, 8));
            }
            sum = Vector256.Sum(vsum);
        }
        for (; i < valid; i++) { float e = MathF.Exp((live[i] - max) * scale); live[i] = e; sum += e; }
        TensorPrimitives.Multiply(live, 1f / sum, live);
        row[valid..].Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskedRow(Span<float> row, int valid)
    {
        if (valid <= 0 || valid > row.Length) throw new ArgumentOutOfRangeException(nameof(valid), "softmax needs at least one unmasked entry");
        var live = row[..valid];
        float max = TensorPrimitives.Max(live);
        TensorPrimitives.Subtract(live, max, live);
        TensorPrimitives.Exp(live, live);
        float sum = TensorPrimitives.Sum(live);
        TensorPrimitives.Multiply(live, 1f / sum, live);
        row[valid..].Clear();
    }
}

/// <summary>The scalar oracle for <see cref="Softmax"/>, in double precision.</summary>
public static class SoftmaxReference
{
    public static void MaskedRow(Span<float> row, int valid)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < valid; i++) max = Math.Max(max, row[i]);
        double sum = 0;
        for (int i = 0; i < valid; i++) sum += Math.Exp(row[i] - max);
        for (int i = 0; i < valid; i++) row[i] = (float)(Math.Exp(row[i] - max) / sum);
        row[valid..].Clear();
    }
}
