using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NativeTransformer.Kernels;

/// <summary>
/// Element-wise activations, in place.
/// Exact GELU is x·Φ(x) = ½·x·erfc(−x/√2). .NET has no erf, so the vector forms (every element, tails included) take
/// erfc(z) ≈ t·P(t)·e^(−z²), t = 1/(1 + p·z), P of degree 4 (Abramowitz &amp; Stegun 7.1.26, |error| ≤ 1.5·10⁻⁷; the
/// approximation PyTorch's vectorized CPU erf uses): GELU within 1.5·10⁻⁷·max(1, |x|) of its definition (measured on
/// a 0.0007 grid over ±12; the tests allow 1e-6). The bound is absolute: in the far negative tail, where GELU itself is
/// below ~1e-6, the relative error grows, as in PyTorch. It replaced the
/// Numerical Recipes erfc (degree 9, fractional error 1.2·10⁻⁷; still <see cref="Erfc"/>, the double-precision oracle),
/// which took 1.6× the time on an AVX2 core for accuracy no float GEMM downstream can see.
/// </summary>
public static class Activations
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float SqrtTwoOverPi = 0.79788456080286536f;

    // Abramowitz & Stegun 7.1.26: erfc(z) ≈ t·(A1 + t·(A2 + t·(A3 + t·(A4 + t·A5))))·e^(−z²), t = 1/(1 + ErfP·z), z ≥ 0.
    private const float ErfP = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    /// <summary>Exact (erf) GELU, as torch.nn.functional.gelu and Hugging Face's "gelu"; vectorized, within
    /// 1.5e-7·max(1, |x|) of <see cref="GeluScalar"/>. Every element runs the same per-lane operations, so a value's bits
    /// do not depend on the span it sits in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gelu(Span<float> x) => InPlace<ErfGelu>(x);

    /// <summary>GELU on 16 lanes: z = |x|/√2, erfc(z) as above with t by <see cref="VectorMath.Reciprocal(Vector512{float})"/>
    /// (not a division); GELU = x ≥ 0 ? x − ½x·erfc(z) : ½x·erfc(z).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gelu(Vector512<float> v)
    {
        var z = Vector512.Abs(v) * InvSqrt2;
        var t = VectorMath.Reciprocal(Vector512.FusedMultiplyAdd(z, Vector512.Create(ErfP), Vector512<float>.One));
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(A5), t, Vector512.Create(A4));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(A2));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(A1));
        var half = v * 0.5f * t * p * VectorMath.ExpNonPositive(-z * z);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), v - half, half);
    }

    /// <summary>GELU on 8 lanes: the operations of the 16-lane form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu(Vector256<float> v)
    {
        var z = Vector256.Abs(v) * InvSqrt2;
        var t = VectorMath.Reciprocal(Vector256.FusedMultiplyAdd(z, Vector256.Create(ErfP), Vector256<float>.One));
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(A5), t, Vector256.Create(A4));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(A3));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(A2));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(A1));
        var half = v * 0.5f * t * p * VectorMath.ExpNonPositive(-z * z);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), v - half, half);
    }

    /// <summary>GELU one value at a time, where the CPU has no 256-bit vectors: the same formula in scalar float.</summary>
    private static float GeluPortable(float v)
    {
        float z = MathF.Abs(v) * InvSqrt2, t = 1f / (1f + ErfP * z);
        float half = 0.5f * v * t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5)))) * MathF.Exp(-z * z);
        return v >= 0 ? v - half : half;
    }

    /// <summary>
    /// A GEMM epilogue on one output segment: y ← act(y + bias) + residual (bias, residual may be null), bitwise what
    /// Add, <see cref="Apply"/>, Add in turn give, but in one register pass over the whole vectors for no activation or
    /// either GELU (it was three calls and three passes over every 64-column output segment); the 0..7 left, and ReLU,
    /// take the three passes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void FinishSegment(float* y, float* bias, float* residual, int len, Epilogue epilogue)
    {
        int done = epilogue switch
        {
            Epilogue.None => Vectors<Identity>(y, bias, residual, len),
            Epilogue.Gelu => Vectors<ErfGelu>(y, bias, residual, len),
            Epilogue.GeluTanh => Vectors<TanhGelu>(y, bias, residual, len),
            _ => 0,   // ReLU is TensorPrimitives.Max, whose NaN and −0 rules a bare vector max does not share
        };
        if (done == len) return;
        var seg = new Span<float>(y + done, len - done);
        if (bias != null) TensorPrimitives.Add(seg, new ReadOnlySpan<float>(bias + done, len - done), seg);
        if (epilogue != Epilogue.None) Apply(seg, epilogue);
        if (residual != null) TensorPrimitives.Add(seg, new ReadOnlySpan<float>(residual + done, len - done), seg);
    }

    /// <summary>y ← T(y + bias) + residual in registers (bias, residual may be null) over whole 16-lane, then 8-lane
    /// vectors from the start; returns where the vectors stopped (the caller does the 0..7 left). Per lane these are
    /// the operations of the separate passes, so the bits are theirs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Vectors<T>(float* y, float* bias, float* residual, int len) where T : struct, ILanes
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= len; i += 16)
            {
                var v = Vector512.Load(y + i);
                if (bias != null) v += Vector512.Load(bias + i);
                v = T.On(v);
                if (residual != null) v += Vector512.Load(residual + i);
                v.Store(y + i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= len; i += 8)
            {
                var v = Vector256.Load(y + i);
                if (bias != null) v += Vector256.Load(bias + i);
                v = T.On(v);
                if (residual != null) v += Vector256.Load(residual + i);
                v.Store(y + i);
            }
        return i;
    }

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
    public static void GeluTanh(Span<float> x) => InPlace<TanhGelu>(x);

    /// <summary>tanh-GELU one value at a time, where the CPU has no 256-bit vectors.</summary>
    private static float GeluTanhPortable(float v) => 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * (v + 0.044715f * v * v * v)));

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

    /// <summary>An activation on 16 and on 8 lanes, the same operations per lane (so a value's bits do not depend on the
    /// width), and one value at a time for CPUs without 256-bit vectors.</summary>
    private interface ILanes
    {
        static abstract Vector512<float> On(Vector512<float> v);
        static abstract Vector256<float> On(Vector256<float> v);
        static abstract float Portable(float v);
    }

    private readonly struct Identity : ILanes
    {
        public static Vector512<float> On(Vector512<float> v) => v;
        public static Vector256<float> On(Vector256<float> v) => v;
        public static float Portable(float v) => v;
    }

    private readonly struct ErfGelu : ILanes
    {
        public static Vector512<float> On(Vector512<float> v) => Gelu(v);
        public static Vector256<float> On(Vector256<float> v) => Gelu(v);
        public static float Portable(float v) => GeluPortable(v);
    }

    private readonly struct TanhGelu : ILanes
    {
        public static Vector512<float> On(Vector512<float> v) => GeluTanh(v);
        public static Vector256<float> On(Vector256<float> v) => GeluTanh(v);
        public static float Portable(float v) => GeluTanhPortable(v);
    }

    /// <summary>Applies <typeparamref name="T"/> in place: whole 16-lane, then 8-lane vectors, then the last 1..7 values
    /// through one zero-padded 8-lane vector, so each value gets the same bits wherever it sits (the fp32 GEMM applies
    /// activations per 64-column segment, the int8 GEMM per row). One value at a time without 256-bit vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void InPlace<T>(Span<float> x) where T : struct, ILanes
    {
        int i;
        fixed (float* p = x) i = Vectors<T>(p, null, null, x.Length);
        if (i == x.Length) return;
        if (Vector256.IsHardwareAccelerated)
        {
            var rest = x[i..];
            Span<float> tail = stackalloc float[8];
            rest.CopyTo(tail);
            T.On(Vector256.Create<float>(tail)).CopyTo(tail);
            tail[..rest.Length].CopyTo(rest);
            return;
        }
        for (; i < x.Length; i++) x[i] = T.Portable(x[i]);
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
