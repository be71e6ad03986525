using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        // 2ⁿ, n ≥ −126. n is a whole number in range, so the plain conversion (one vcvttps2dq) is exact: ConvertToInt32
        // would add .NET's saturation and NaN fix-up (four more instructions, a blend among them) that the range makes
        // dead. A NaN x still gives NaN: p is NaN whatever the scale.
        var scale = (Vector256.ConvertToInt32Native(n) + Vector256.Create(127)) << 23;
        return p * scale.AsSingle();
    }

    /// <summary><see cref="ExpNonPositive(Vector256{float})"/> on 16 lanes: the same operations, so each lane's value is
    /// bitwise the one the 8-lane form gives.</summary>
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
        var scale = (Vector512.ConvertToInt32Native(n) + Vector512.Create(127)) << 23;
        return p * scale.AsSingle();
    }

    /// <summary>1/d without a division where the ISA has a reciprocal estimate: the 14-bit (AVX-512) or 12-bit (AVX)
    /// estimate refined by one Newton step, e = 1 − d·r, r + r·e (relative error ≲ 2⁻²³, i.e. about one ulp).
    /// A division is 5–10× the cost of the estimate and the two FMAs and does not pipeline. Else a plain division.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Reciprocal(Vector256<float> d)
    {
        Vector256<float> r;
        if (Avx512F.VL.IsSupported) r = Avx512F.VL.Reciprocal14(d);
        else if (Avx.IsSupported) r = Avx.Reciprocal(d);
        else return Vector256<float>.One / d;
        return Vector256.FusedMultiplyAdd(r, Vector256.FusedMultiplyAdd(-d, r, Vector256<float>.One), r);
    }

    /// <summary><see cref="Reciprocal(Vector256{float})"/> on 16 lanes (bitwise the same per lane with AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Reciprocal(Vector512<float> d)
    {
        if (!Avx512F.IsSupported) return Vector512<float>.One / d;
        var r = Avx512F.Reciprocal14(d);
        return Vector512.FusedMultiplyAdd(r, Vector512.FusedMultiplyAdd(-d, r, Vector512<float>.One), r);
    }
}
