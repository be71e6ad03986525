using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NativeTransformer.Kernels;

/// <summary>
/// Element-wise activations, in place.
/// Exact GELU is x·Φ(x) = ½·x·erfc(−x/√2). .NET has no erf, so erfc comes from the Chebyshev-fitted
/// form erfc(z) ≈ t·exp(−z² − 1.26551223 + t·P(t)), t = 1/(1 + z/2), whose fractional error is below
/// 1.2·10⁻⁷ for all z ≥ 0 (Press et al., Numerical Recipes §6.2) — at float precision for GELU.
/// </summary>
public static class Activations
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;

    /// <summary>Exact (erf) GELU, as torch.nn.functional.gelu and Hugging Face's "gelu"; vectorized, within 1e-6 of <see cref="GeluScalar"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gelu(Span<float> x)
    {
        // One pass in registers: z = |x|/√2, t = 1/(1 + z/2), erfc(z) = t·exp(P(t) − z²);
        // GELU = x ≥ 0 ? x − ½x·erfc(z) : ½x·erfc(z). 16 lanes, then 8 (the same operations per lane), then scalar.
        for (int i = WholeVectors<ErfGelu>(x); i < x.Length; i++)
        {
            float v = x[i], z = MathF.Abs(v) * InvSqrt2, t = 1f / (1f + 0.5f * z);
            float half = 0.5f * v * t * MathF.Exp(PolyScalar(t) - z * z);
            x[i] = v >= 0 ? v - half : half;
        }
    }

    /// <summary>GELU on 16 lanes; t = 1/(1 + z/2) by <see cref="VectorMath.Reciprocal(Vector512{float})"/>, not a division.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gelu(Vector512<float> v)
    {
        var z = Vector512.Abs(v) * InvSqrt2;
        var t = VectorMath.Reciprocal(Vector512.FusedMultiplyAdd(z, Vector512.Create(0.5f), Vector512<float>.One));
        var p = Vector512.Create(0.17087277f);
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-0.82215223f)); p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(1.48851587f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-1.13520398f)); p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.27886807f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-0.18628806f)); p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.09678418f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.37409196f)); p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(1.00002368f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-1.26551223f));
        var half = v * 0.5f * t * VectorMath.ExpNonPositive(Vector512.FusedMultiplyAdd(-z, z, p));
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), v - half, half);
    }

    /// <summary>GELU on 8 lanes: the operations of the 16-lane form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu(Vector256<float> v)
    {
        var z = Vector256.Abs(v) * InvSqrt2;
        var t = VectorMath.Reciprocal(Vector256.FusedMultiplyAdd(z, Vector256.Create(0.5f), Vector256<float>.One));
        var p = Vector256.Create(0.17087277f);
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(-0.82215223f)); p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(1.48851587f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(-1.13520398f)); p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.27886807f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(-0.18628806f)); p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.09678418f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.37409196f)); p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(1.00002368f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(-1.26551223f));
        var half = v * 0.5f * t * VectorMath.ExpNonPositive(Vector256.FusedMultiplyAdd(-z, z, p));
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), v - half, half);
    }

    /// <summary>
    /// A GEMM epilogue on one output segment: y ← act(y + bias) + residual (bias, residual may be null), bitwise what
    /// Add, <see cref="Apply"/>, Add in turn give, but in one register pass for no activation or either GELU on segments of
    /// whole 16-lane vectors (it was three calls and three passes per 64 columns of every GEMM output).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void FinishSegment(float* y, float* bias, float* residual, int len, Epilogue epilogue)
    {
        if (epilogue == Epilogue.None && Vector512.IsHardwareAccelerated && len % 16 == 0)
        {
            for (int i = 0; i < len; i += 16)
            {
                var v = Vector512.Load(y + i);
                if (bias != null) v += Vector512.Load(bias + i);
                if (residual != null) v += Vector512.Load(residual + i);
                v.Store(y + i);
            }
            return;
        }
        if (epilogue is Epilogue.Gelu or Epilogue.GeluTanh && Vector512.IsHardwareAccelerated && len % 16 == 0)
        {
            bool exact = epilogue == Epilogue.Gelu;
            for (int i = 0; i < len; i += 16)
            {
                var v = Vector512.Load(y + i);
                if (bias != null) v += Vector512.Load(bias + i);
                v = exact ? Gelu(v) : GeluTanh(v);
                if (residual != null) v += Vector512.Load(residual + i);
                v.Store(y + i);
            }
            return;
        }
        var seg = new Span<float>(y, len);
        if (bias != null) TensorPrimitives.Add(seg, new ReadOnlySpan<float>(bias, len), seg);
        if (epilogue != Epilogue.None) Apply(seg, epilogue);
        if (residual != null) TensorPrimitives.Add(seg, new ReadOnlySpan<float>(residual, len), seg);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float PolyScalar(float t) =>
        -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
        t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));

    /// <summary>Applies a GEMM epilogue's activation in place (identity for <see cref="Epilogue.None"/>).</summary>
    public static void Apply(Span<float> values, Epilogue epilogue)
    {
        switch (epilogue)
        {
            case Epilogue.Gelu: Gelu(values); break;
            case Epilogue.GeluTanh: GeluTanh(values); break;
            case Epilogue.Relu: Relu(values); break;
        }
    }

    /// <summary>One exact-GELU value, in double internally.</summary>
    public static float GeluScalar(float v) => (float)(0.5 * v * Erfc(-v * (double)InvSqrt2));

    /// <summary>
    /// tanh-approximated GELU ("gelu_new", "gelu_pytorch_tanh"): ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), vectorized as
    /// the identical x·σ(2u) = x / (1 + e⁻²ᵘ): with e = e^(−2|u|) ≤ 1 (the shared exp) and s = 1/(1 + e) (reciprocal
    /// estimate + Newton step), GELU = x ≥ 0 ? x·s : x·e·s — no tanh call, no cancellation in 1 + tanh(u) for negative x.
    /// (The scalar MathF.Tanh loop this replaces was 45 % of an ALBERT forward: libm's tanhf and expm1f per element.)
    /// Every element, the last 1..7 included, runs the same per-lane operations, so a value's bits do not depend on the
    /// span it sits in (the fp32 GEMM applies it per 64-column segment, the int8 GEMM per row). Within 1e-6·max(1, |x|)
    /// of <see cref="GeluTanhScalar"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GeluTanh(Span<float> x)
    {
        int i = WholeVectors<TanhGelu>(x);
        if (Vector256.IsHardwareAccelerated)
        {
            if (i < x.Length)
            {
                var rest = x[i..];
                Span<float> tail = stackalloc float[8];
                rest.CopyTo(tail);
                GeluTanh(Vector256.Create<float>(tail)).CopyTo(tail);
                tail[..rest.Length].CopyTo(rest);
            }
            return;
        }
        for (; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * (v + 0.044715f * v * v * v)));
        }
    }

    /// <summary>tanh-GELU on 16 lanes: the operations of the 8-lane form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> GeluTanh(Vector512<float> v)
    {
        var twoU = v * Vector512.FusedMultiplyAdd(v * v, Vector512.Create(TwoSqrtTwoOverPiCubic), Vector512.Create(2 * SqrtTwoOverPi));
        var a = -Vector512.Abs(twoU);
        var e = VectorMath.ExpNonPositive(a) & Vector512.GreaterThan(a, Vector512.Create(ExpFloor));
        var s = VectorMath.Reciprocal(Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), v * s, v * e * s);
    }

    /// <summary>tanh-GELU on 8 lanes (see <see cref="GeluTanh(Span{float})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> GeluTanh(Vector256<float> v)
    {
        var twoU = v * Vector256.FusedMultiplyAdd(v * v, Vector256.Create(TwoSqrtTwoOverPiCubic), Vector256.Create(2 * SqrtTwoOverPi));
        var a = -Vector256.Abs(twoU);
        var e = VectorMath.ExpNonPositive(a) & Vector256.GreaterThan(a, Vector256.Create(ExpFloor));
        var s = VectorMath.Reciprocal(Vector256<float>.One + e);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), v * s, v * e * s);
    }

    /// <summary>An activation on 16 and on 8 lanes, the same operations per lane (so a value's bits do not depend on the width).</summary>
    private interface ILanes
    {
        static abstract Vector512<float> On(Vector512<float> v);
        static abstract Vector256<float> On(Vector256<float> v);
    }

    private readonly struct ErfGelu : ILanes
    {
        public static Vector512<float> On(Vector512<float> v) => Gelu(v);
        public static Vector256<float> On(Vector256<float> v) => Gelu(v);
    }

    private readonly struct TanhGelu : ILanes
    {
        public static Vector512<float> On(Vector512<float> v) => GeluTanh(v);
        public static Vector256<float> On(Vector256<float> v) => GeluTanh(v);
    }

    /// <summary>Applies <typeparamref name="T"/> in place to whole 16-lane, then 8-lane vectors from the start of
    /// <paramref name="x"/>; returns where the vectors stopped (the caller does the 0..7 left).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int WholeVectors<T>(Span<float> x) where T : struct, ILanes
    {
        int i = 0;
        fixed (float* p = x)
        {
            if (Vector512.IsHardwareAccelerated)
                for (; i + 16 <= x.Length; i += 16) T.On(Vector512.Load(p + i)).Store(p + i);
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= x.Length; i += 8) T.On(Vector256.Load(p + i)).Store(p + i);
        }
        return i;
    }

    /// <summary>Below this 2u, e⁻²|ᵘ| is taken as 0: the shared exp clamps its input at −87, and x·e^(−87) is not ~0 for
    /// |x| near float.MaxValue.</summary>
    private const float ExpFloor = -87f;

    /// <summary>2·√(2/π)·0.044715: 2u = x·(2√(2/π) + this·x²).</summary>
    private const float TwoSqrtTwoOverPiCubic = 2 * SqrtTwoOverPi * 0.044715f;

    /// <summary>One tanh-GELU value by its definition, in double internally (the oracle).</summary>
    public static float GeluTanhScalar(float v) =>
        (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * (double)v * v * v))));

    public static void Relu(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    public static void Tanh(Span<float> x) => TensorPrimitives.Tanh(x, x);

    /// <summary>Complementary error function; fractional error &lt; 1.2e-7 everywhere.</summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
                   t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.Exp(-z * z + p);
        return x >= 0 ? r : 2.0 - r;
    }
}
