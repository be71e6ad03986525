using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

namespace NativeTransformer.Weights;

/// <summary>
/// Counts NaN and ±Inf in float tensors. A float is non-finite exactly when all its exponent bits are set, so one
/// AND and one compare per lane decide it; the vector loop reads memory at bandwidth, which keeps the check at load
/// cheap next to mapping and packing the same bytes.
/// </summary>
public static class NonFinite
{
    private const uint ExponentMask = 0x7F80_0000;

    /// <summary>Number of NaN / ±Inf values in <paramref name="values"/>.</summary>
    /// <remarks>Weights are almost always all finite, so the vector loop only asks "any non-finite in these 4 vectors?"
    /// (AND, compare, OR, one test) and counts a block lane by lane in the rare case it has one.</remarks>
    public static long Count(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        ref uint start = ref MemoryMarshal.GetReference(bits);
        long count = 0;
        int i = 0, n = bits.Length;
        if (Vector256.IsHardwareAccelerated)
        {
            var mask = Vector256.Create(ExponentMask);
            const int Block = 4 * 8;
            for (; i <= n - Block; i += Block)
            {
                var any = Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)i) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)(i + 8)) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)(i + 16)) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)(i + 24)) & mask, mask);
                if (any != Vector256<uint>.Zero) count += CountScalar(values.Slice(i, Block));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var mask = Vector128.Create(ExponentMask);
            const int Block = 4 * 4;
            for (; i <= n - Block; i += Block)
            {
                var any = Vector128.Equals(Vector128.LoadUnsafe(ref start, (nuint)i) & mask, mask)
                    | Vector128.Equals(Vector128.LoadUnsafe(ref start, (nuint)(i + 4)) & mask, mask)
                    | Vector128.Equals(Vector128.LoadUnsafe(ref start, (nuint)(i + 8)) & mask, mask)
                    | Vector128.Equals(Vector128.LoadUnsafe(ref start, (nuint)(i + 12)) & mask, mask);
                if (any != Vector128<uint>.Zero) count += CountScalar(values.Slice(i, Block));
            }
        }
        return count + CountScalar(values[i..]);
    }

    /// <summary>The plain reference (the oracle of <see cref="Count"/>'s vector loop).</summary>
    public static long CountScalar(ReadOnlySpan<float> values)
    {
        long count = 0;
        foreach (float v in values) if (!float.IsFinite(v)) count++;
        return count;
    }

    /// <summary>Index of the first NaN / ±Inf, or -1 (only called once a count is non-zero, to name it in the error).</summary>
    public static int IndexOfFirst(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++) if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}
