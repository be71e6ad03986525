using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeTransformer.Kernels;

/// <summary>
/// Vector similarity on stored embeddings: float dot (System.Numerics.Tensors), int8·int8 dot with exact int32 accumulation
/// (Vector512 / Vector256), and the Hamming distance of packed bits (64 bits per popcount). Scalar oracles in the tests.
/// </summary>
internal static class SimilarityKernels
{
    /// <summary>Σ aᵢbᵢ in float (TensorPrimitives' SIMD order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Dot(a, b);

    /// <summary>Σ aᵢbᵢ of signed bytes, exact: each product fits a short (|p| ≤ 16384) and is widened to int before adding,
    /// so any order gives the same integer (lengths up to 131072 cannot overflow).</summary>
    public static int DotInt8(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: {a.Length} and {b.Length}");
        int n = a.Length, i = 0, sum = 0;
        ref sbyte pa = ref MemoryMarshal.GetReference(a);
        ref sbyte pb = ref MemoryMarshal.GetReference(b);
        if (Vector512.IsHardwareAccelerated && n >= Vector512<sbyte>.Count)
        {
            var acc = Vector512<int>.Zero;
            for (; i <= n - Vector512<sbyte>.Count; i += Vector512<sbyte>.Count)
            {
                var (alo, ahi) = Vector512.Widen(Vector512.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector512.Widen(Vector512.LoadUnsafe(ref pb, (nuint)i));
                var (p0, p1) = Vector512.Widen(alo * blo);
                var (p2, p3) = Vector512.Widen(ahi * bhi);
                acc += (p0 + p1) + (p2 + p3);
            }
            sum += Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= Vector256<sbyte>.Count)
        {
            var acc = Vector256<int>.Zero;
            for (; i <= n - Vector256<sbyte>.Count; i += Vector256<sbyte>.Count)
            {
                var (alo, ahi) = Vector256.Widen(Vector256.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector256.Widen(Vector256.LoadUnsafe(ref pb, (nuint)i));
                var (p0, p1) = Vector256.Widen(alo * blo);
                var (p2, p3) = Vector256.Widen(ahi * bhi);
                acc += (p0 + p1) + (p2 + p3);
            }
            sum += Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>Bits that differ between two packed bit vectors: popcount of the XOR, 64 bits at a time.</summary>
    public static int Hamming(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: {a.Length} and {b.Length}");
        int n = a.Length, i = 0, sum = 0;
        for (; i <= n - 8; i += 8)
            sum += BitOperations.PopCount(MemoryMarshal.Read<ulong>(a[i..]) ^ MemoryMarshal.Read<ulong>(b[i..]));
        for (; i < n; i++) sum += BitOperations.PopCount((uint)(a[i] ^ b[i]));
        return sum;
    }
}
