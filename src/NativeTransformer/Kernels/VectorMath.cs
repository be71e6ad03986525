using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeTransformer.Kernels;

/// <summary>Inlinable vector math shared by the fused kernels (GELU, softmax), so they run in one register pass.</summary>
internal static class VectorMath
{
    /// <summary>
    /// eˣ for x ≤ 0 (all GELU and a max-shifted softmax need), |relative error| ≲ 2e-7: x = n·ln2 + r with
    /// |r| ≤ ln2/2 (Cody–Waite split of ln2), eʳ by its degree-7 Taylor polynomial (remainder &lt; 6e-9), times 2ⁿ
    /// built in the exponent bits. Inputs below −87 are clamped there (eˣ &lt; 1.7e-38); positive inputs are not supported.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        x = Vector256.Max(x, Vector256.Create(-87f));
        var n = Vector256.Round(x * 1.44269504088896341f);
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693145751953125f), x);   // ln2 high part (exact in float)
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-1.428606765330187e-06f), r);   // ln2 low part
        var p = Vector256.Create(1f / 5040);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 720));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var scale = (Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23;             // 2ⁿ, n ≥ −126
        return p * scale.AsSingle();
    }

    /// <summary>The 512-bit twin of <see cref="ExpNonPositive(Vector256{float})"/>: the same operations in the same order, so
    /// every lane is bit-identical to the 256-bit result (callers may mix widths without changing a bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        x = Vector512.Max(x, Vector512.Create(-87f));
        var n = Vector512.Round(x * 1.44269504088896341f);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693145751953125f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-1.428606765330187e-06f), r);
        var p = Vector512.Create(1f / 5040);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        var scale = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        return p * scale.AsSingle();
    }
}
