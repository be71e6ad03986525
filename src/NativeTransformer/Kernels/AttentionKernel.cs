using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeTransformer.Kernels;

/// <summary>
/// Scaled dot-product attention for one head: out = softmax(q·kᵀ·scale over the first <c>valid</c> keys)·v.
/// q, k, v and out are [rows, d] views with a row stride (so heads are read in place from a fused
/// [tokens, 3H] projection). Both products are broadcast-FMA "axpy" forms — no horizontal sums:
/// scores[i, j..j+15] += q[i, t] · kᵀ[t, j..j+15] over t, and out[i, c..c+15] += p[i, j] · v[j, c..c+15] over j,
/// each on a 4-row register tile (32 wide with Vector512, else 16). Every output element accumulates in the same order whichever tile or
/// tail computes it, so a row's result does not depend on the other rows.
/// </summary>
public static unsafe class AttentionKernel
{
    /// <summary>Query rows per pass of scores → softmax → context: their scores (RowBlock × valid floats, 8 KB at 128
    /// keys) stay in L1 between the three steps instead of a whole [rows, valid] matrix going out to L2 and back.</summary>
    internal const int RowBlock = 16;

    /// <summary>Scratch floats needed: kᵀ [d, valid] plus the scores of one row block [min(rows, RowBlock), valid].</summary>
    public static int ScratchLength(int rows, int maxValid, int d) => d * maxValid + Math.Min(rows, RowBlock) * maxValid;

    public static void SingleHead(float* q, float* k, float* v, int stride, int rows, int valid, int d, float scale,
        float* output, int outStride, Span<float> scratch) =>
        SingleHead(q, k, v, stride, stride, rows, valid, d, scale, output, outStride, scratch);

    /// <summary>As above with v read at its own row stride <paramref name="vStride"/> (q and k share <paramref name="stride"/>),
    /// for a value projection kept apart from the fused query|key one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SingleHead(float* q, float* k, float* v, int stride, int vStride, int rows, int valid, int d, float scale,
        float* output, int outStride, Span<float> scratch) =>
        SingleHead(q, k, v, stride, vStride, rows, valid, d, scale, null, 0, output, outStride, scratch);

    /// <summary>
    /// As above with an additive bias: softmax(q·kᵀ·scale + bias) over the first <c>valid</c> keys. Query row i reads
    /// its bias at <c>bias + i·biasRowStride</c>, <c>valid</c> contiguous values; the stride may be zero or negative
    /// (a Toeplitz bias that depends only on key − query is one table read backwards, T5's relative position bias).
    /// <paramref name="bias"/> null = no bias (the scores are then computed exactly as without this overload).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SingleHead(float* q, float* k, float* v, int stride, int vStride, int rows, int valid, int d, float scale,
        float* bias, long biasRowStride, float* output, int outStride, Span<float> scratch)
    {
        if (valid <= 0) throw new ArgumentOutOfRangeException(nameof(valid), "attention needs at least one unmasked key");
        if (scratch.Length < ScratchLength(rows, valid, d)) throw new ArgumentException("attention scratch too small");
        fixed (float* s = scratch)
        {
            float* kt = s, scores = s + d * valid;
            for (int j = 0; j < valid; j++)                       // kᵀ [d, valid]: contiguous along keys
                for (int t = 0; t < d; t++) kt[t * valid + j] = k[(long)j * stride + t];
            // Each output row is the same operation sequence whatever block it falls in (see the class summary), so the
            // blocking changes where the scores live, not a bit of the result.
            for (int i0 = 0; i0 < rows; i0 += RowBlock)
            {
                int n = Math.Min(RowBlock, rows - i0);
                Scores(q + (long)i0 * stride, stride, kt, n, valid, d, scores);
                for (int i = 0; i < n; i++)
                {
                    var row = new Span<float>(scores + (long)i * valid, valid);
                    if (bias == null) Softmax.ScaledMaskedRow(row, valid, scale);
                    else
                    {
                        // scale·s + bias first: the bias is not scaled, so the softmax runs at scale 1.
                        TensorPrimitives.MultiplyAdd(row, scale, new ReadOnlySpan<float>(bias + (i0 + i) * biasRowStride, valid), row);
                        Softmax.ScaledMaskedRow(row, valid, 1f);
                    }
                }
                Context(scores, n, valid, v, vStride, d, output + (long)i0 * outStride, outStride);
            }
        }
    }

    /// <summary>scores[i, j] = Σₜ q[i, t]·kt[t, j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Scores(float* q, int stride, float* kt, int rows, int valid, int d, float* scores)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 4 <= rows; i += 4)
            {
                float* q0 = q + (long)i * stride, q1 = q0 + stride, q2 = q1 + stride, q3 = q2 + stride;
                float* s0 = scores + (long)i * valid, s1 = s0 + valid, s2 = s1 + valid, s3 = s2 + valid;
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; j + 32 <= valid; j += 32)
                    {
                        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                        for (int t = 0; t < d; t++)
                        {
                            var b0 = Vector512.Load(kt + t * valid + j); var b1 = Vector512.Load(kt + t * valid + j + 16);
                            var x = Vector512.Create(q0[t]); a00 = Vector512.FusedMultiplyAdd(x, b0, a00); a01 = Vector512.FusedMultiplyAdd(x, b1, a01);
                            x = Vector512.Create(q1[t]); a10 = Vector512.FusedMultiplyAdd(x, b0, a10); a11 = Vector512.FusedMultiplyAdd(x, b1, a11);
                            x = Vector512.Create(q2[t]); a20 = Vector512.FusedMultiplyAdd(x, b0, a20); a21 = Vector512.FusedMultiplyAdd(x, b1, a21);
                            x = Vector512.Create(q3[t]); a30 = Vector512.FusedMultiplyAdd(x, b0, a30); a31 = Vector512.FusedMultiplyAdd(x, b1, a31);
                        }
                        a00.Store(s0 + j); a01.Store(s0 + j + 16); a10.Store(s1 + j); a11.Store(s1 + j + 16);
                        a20.Store(s2 + j); a21.Store(s2 + j + 16); a30.Store(s3 + j); a31.Store(s3 + j + 16);
                    }
                for (; j + 16 <= valid; j += 16)
                {
                    Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                    for (int t = 0; t < d; t++)
                    {
                        var b0 = Vector256.Load(kt + t * valid + j); var b1 = Vector256.Load(kt + t * valid + j + 8);
                        var x = Vector256.Create(q0[t]); a00 = Vector256.FusedMultiplyAdd(x, b0, a00); a01 = Vector256.FusedMultiplyAdd(x, b1, a01);
                        x = Vector256.Create(q1[t]); a10 = Vector256.FusedMultiplyAdd(x, b0, a10); a11 = Vector256.FusedMultiplyAdd(x, b1, a11);
                        x = Vector256.Create(q2[t]); a20 = Vector256.FusedMultiplyAdd(x, b0, a20); a21 = Vector256.FusedMultiplyAdd(x, b1, a21);
                        x = Vector256.Create(q3[t]); a30 = Vector256.FusedMultiplyAdd(x, b0, a30); a31 = Vector256.FusedMultiplyAdd(x, b1, a31);
                    }
                    a00.Store(s0 + j); a01.Store(s0 + j + 8); a10.Store(s1 + j); a11.Store(s1 + j + 8);
                    a20.Store(s2 + j); a21.Store(s2 + j + 8); a30.Store(s3 + j); a31.Store(s3 + j + 8);
                }
                if (Avx.IsSupported && j < valid) j = ScoresEdge4(q0, q1, q2, q3, kt, valid, d, s0, s1, s2, s3, j);
                for (int r = 0; r < 4; r++) ScoresTail(q + (long)(i + r) * stride, kt, valid, d, scores + (long)(i + r) * valid, j);
            }
        for (; i < rows; i++) ScoresTail(q + (long)i * stride, kt, valid, d, scores + (long)i * valid, 0);
    }

    /// <summary>
    /// The last 1..15 columns of a 4-row tile, as one or two 8-lane vectors per row with masked loads and stores (lanes past
    /// <paramref name="valid"/> read nothing). Short texts made this the common case: with 14 keys the per-row tail ran one
    /// 8-lane chain and six scalar chains of d dependent FMAs each, and the scores cost 3.5× the context product of the same
    /// size (STS-B profile). Same t-order FMA per element as every other path, so the same bits. Returns <paramref name="valid"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScoresEdge4(float* q0, float* q1, float* q2, float* q3, float* kt, int valid, int d,
        float* s0, float* s1, float* s2, float* s3, int j)
    {
        int rem = valid - j;
        var m0 = FirstLanes(Math.Min(rem, 8));
        if (rem > 8)
        {
            var m1 = FirstLanes(rem - 8);
            Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            for (int t = 0; t < d; t++)
            {
                float* kr = kt + t * valid + j;
                var b0 = Avx.MaskLoad(kr, m0); var b1 = Avx.MaskLoad(kr + 8, m1);
                var x = Vector256.Create(q0[t]); a00 = Vector256.FusedMultiplyAdd(x, b0, a00); a01 = Vector256.FusedMultiplyAdd(x, b1, a01);
                x = Vector256.Create(q1[t]); a10 = Vector256.FusedMultiplyAdd(x, b0, a10); a11 = Vector256.FusedMultiplyAdd(x, b1, a11);
                x = Vector256.Create(q2[t]); a20 = Vector256.FusedMultiplyAdd(x, b0, a20); a21 = Vector256.FusedMultiplyAdd(x, b1, a21);
                x = Vector256.Create(q3[t]); a30 = Vector256.FusedMultiplyAdd(x, b0, a30); a31 = Vector256.FusedMultiplyAdd(x, b1, a31);
            }
            Avx.MaskStore(s0 + j, m0, a00); Avx.MaskStore(s0 + j + 8, m1, a01); Avx.MaskStore(s1 + j, m0, a10); Avx.MaskStore(s1 + j + 8, m1, a11);
            Avx.MaskStore(s2 + j, m0, a20); Avx.MaskStore(s2 + j + 8, m1, a21); Avx.MaskStore(s3 + j, m0, a30); Avx.MaskStore(s3 + j + 8, m1, a31);
        }
        else
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int t = 0; t < d; t++)
            {
                var b = Avx.MaskLoad(kt + t * valid + j, m0);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(q0[t]), b, a0); a1 = Vector256.FusedMultiplyAdd(Vector256.Create(q1[t]), b, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(q2[t]), b, a2); a3 = Vector256.FusedMultiplyAdd(Vector256.Create(q3[t]), b, a3);
            }
            Avx.MaskStore(s0 + j, m0, a0); Avx.MaskStore(s1 + j, m0, a1); Avx.MaskStore(s2 + j, m0, a2); Avx.MaskStore(s3 + j, m0, a3);
        }
        return valid;
    }

    /// <summary>A MaskLoad/MaskStore mask selecting lanes 0..count−1 (count ≤ 0: none, ≥ 8: all).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FirstLanes(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();

    /// <summary>One row's scores from column <paramref name="j"/> on: 8-wide, then masked 8-wide (or scalar without AVX),
    /// same t-order FMA as the tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresTail(float* qRow, float* kt, int valid, int d, float* sRow, int j)
    {
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= valid; j += 8)
            {
                Vector256<float> a = default;
                for (int t = 0; t < d; t++) a = Vector256.FusedMultiplyAdd(Vector256.Create(qRow[t]), Vector256.Load(kt + t * valid + j), a);
                a.Store(sRow + j);
            }
        if (Avx.IsSupported && j < valid)
        {
            // The last 1..7 columns as one masked vector: one chain of d FMAs instead of up to seven scalar ones.
            var m = FirstLanes(valid - j);
            Vector256<float> a = default;
            for (int t = 0; t < d; t++) a = Vector256.FusedMultiplyAdd(Vector256.Create(qRow[t]), Avx.MaskLoad(kt + t * valid + j, m), a);
            Avx.MaskStore(sRow + j, m, a);
            return;
        }
        for (; j < valid; j++)
        {
            float a = 0;
            for (int t = 0; t < d; t++) a = MathF.FusedMultiplyAdd(qRow[t], kt[t * valid + j], a);
            sRow[j] = a;
        }
    }

    /// <summary>out[i, c] = Σⱼ p[i, j]·v[j, c].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Context(float* p, int rows, int valid, float* v, int stride, int d, float* output, int outStride)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 4 <= rows; i += 4)
            {
                float* p0 = p + (long)i * valid, p1 = p0 + valid, p2 = p1 + valid, p3 = p2 + valid;
                float* o0 = output + (long)i * outStride, o1 = o0 + outStride, o2 = o1 + outStride, o3 = o2 + outStride;
                int c = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; c + 32 <= d; c += 32)
                    {
                        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                        for (int j = 0; j < valid; j++)
                        {
                            float* vr = v + (long)j * stride + c;
                            var b0 = Vector512.Load(vr); var b1 = Vector512.Load(vr + 16);
                            var x = Vector512.Create(p0[j]); a00 = Vector512.FusedMultiplyAdd(x, b0, a00); a01 = Vector512.FusedMultiplyAdd(x, b1, a01);
                            x = Vector512.Create(p1[j]); a10 = Vector512.FusedMultiplyAdd(x, b0, a10); a11 = Vector512.FusedMultiplyAdd(x, b1, a11);
                            x = Vector512.Create(p2[j]); a20 = Vector512.FusedMultiplyAdd(x, b0, a20); a21 = Vector512.FusedMultiplyAdd(x, b1, a21);
                            x = Vector512.Create(p3[j]); a30 = Vector512.FusedMultiplyAdd(x, b0, a30); a31 = Vector512.FusedMultiplyAdd(x, b1, a31);
                        }
                        a00.Store(o0 + c); a01.Store(o0 + c + 16); a10.Store(o1 + c); a11.Store(o1 + c + 16);
                        a20.Store(o2 + c); a21.Store(o2 + c + 16); a30.Store(o3 + c); a31.Store(o3 + c + 16);
                    }
                for (; c + 16 <= d; c += 16)
                {
                    Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                    for (int j = 0; j < valid; j++)
                    {
                        float* vr = v + (long)j * stride + c;
                        var b0 = Vector256.Load(vr); var b1 = Vector256.Load(vr + 8);
                        var x = Vector256.Create(p0[j]); a00 = Vector256.FusedMultiplyAdd(x, b0, a00); a01 = Vector256.FusedMultiplyAdd(x, b1, a01);
                        x = Vector256.Create(p1[j]); a10 = Vector256.FusedMultiplyAdd(x, b0, a10); a11 = Vector256.FusedMultiplyAdd(x, b1, a11);
                        x = Vector256.Create(p2[j]); a20 = Vector256.FusedMultiplyAdd(x, b0, a20); a21 = Vector256.FusedMultiplyAdd(x, b1, a21);
                        x = Vector256.Create(p3[j]); a30 = Vector256.FusedMultiplyAdd(x, b0, a30); a31 = Vector256.FusedMultiplyAdd(x, b1, a31);
                    }
                    a00.Store(o0 + c); a01.Store(o0 + c + 8); a10.Store(o1 + c); a11.Store(o1 + c + 8);
                    a20.Store(o2 + c); a21.Store(o2 + c + 8); a30.Store(o3 + c); a31.Store(o3 + c + 8);
                }
                for (int r = 0; r < 4; r++) ContextTail(p + (long)(i + r) * valid, valid, v, stride, d, output + (long)(i + r) * outStride, c);
            }
        for (; i < rows; i++) ContextTail(p + (long)i * valid, valid, v, stride, d, output + (long)i * outStride, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ContextTail(float* pRow, int valid, float* v, int stride, int d, float* oRow, int c)
    {
        if (Vector256.IsHardwareAccelerated)
            for (; c + 8 <= d; c += 8)
            {
                Vector256<float> a = default;
                for (int j = 0; j < valid; j++) a = Vector256.FusedMultiplyAdd(Vector256.Create(pRow[j]), Vector256.Load(v + (long)j * stride + c), a);
                a.Store(oRow + c);
            }
        for (; c < d; c++)
        {
            float a = 0;
            for (int j = 0; j < valid; j++) a = MathF.FusedMultiplyAdd(pRow[j], v[(long)j * stride + c], a);
            oRow[c] = a;
        }
    }
}

/// <summary>The plain scalar oracle for <see cref="AttentionKernel"/>, in double precision.</summary>
public static unsafe class AttentionReference
{
    public static void SingleHead(float* q, float* k, float* v, int stride, int rows, int valid, int d, float scale, float* output, int outStride) =>
        SingleHead(q, k, v, stride, rows, valid, d, scale, null, 0, output, outStride);

    /// <summary>With an additive bias, read as <see cref="AttentionKernel"/>'s biased overload reads it.</summary>
    public static void SingleHead(float* q, float* k, float* v, int stride, int rows, int valid, int d, float scale,
        float* bias, long biasRowStride, float* output, int outStride)
    {
        var p = new double[valid];
        for (int i = 0; i < rows; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < valid; j++)
            {
                double s = 0;
                for (int t = 0; t < d; t++) s += (double)q[(long)i * stride + t] * k[(long)j * stride + t];
                p[j] = s * scale + (bias == null ? 0 : bias[i * biasRowStride + j]); max = Math.Max(max, p[j]);
            }
            double sum = 0;
            for (int j = 0; j < valid; j++) { p[j] = Math.Exp(p[j] - max); sum += p[j]; }
            for (int c = 0; c < d; c++)
            {
                double o = 0;
                for (int j = 0; j < valid; j++) o += p[j] / sum * v[(long)j * stride + c];
                output[(long)i * outStride + c] = (float)o;
            }
        }
    }
}
