using System.Numerics;
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
    public static long Count(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, uint>(values);
        long count = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<uint>.Count)
        {
            var mask = new Vector<uint>(ExponentMask);
            var lanes = Vector<uint>.Zero;
            // Each lane counts at most once per iteration; flush well before a lane could wrap.
            const int Flush = 1 << 30;
            int sinceFlush = 0;
            for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                var v = new Vector<uint>(bits.Slice(i, Vector<uint>.Count));
                lanes -= Vector.Equals(v & mask, mask); // all-ones (= -1) where non-finite
                if (++sinceFlush == Flush) { count += Sum(lanes); lanes = Vector<uint>.Zero; sinceFlush = 0; }
            }
            count += Sum(lanes);
        }
        for (; i < bits.Length; i++)
            if ((bits[i] & ExponentMask) == ExponentMask) count++;
        return count;
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

    private static long Sum(Vector<uint> lanes)
    {
        long s = 0;
        for (int l = 0; l < Vector<uint>.Count; l++) s += lanes[l];
        return s;
    }
}
