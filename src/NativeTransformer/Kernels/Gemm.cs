using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeTransformer.Kernels;

/// <summary>
/// y = x · wᵀ + bias, the shape of every Linear layer: x is [M, K] (rows = tokens), w is [N, K]
/// (PyTorch's [out, in] layout, read in place from the checkpoint), bias is [N] or empty, y is [M, N].
///
/// Each output element is a dot product of two contiguous rows, so the kernel walks 4 rows of x
/// against 4 rows of w with 16 SIMD accumulators (8 loads feed 16 FMAs). Edges use a 1×4 and a 1×1
/// kernel. Which kernel computes y[m, n] depends only on (m, n) — never on how work is split across
/// threads — so results are bitwise identical for any thread count.
/// Results may differ from <see cref="GemmReference"/> in the last bits (summation order).
/// </summary>
public static unsafe class Gemm
{
    private const int Tile = 4;

    /// <summary>Whole product, split over <paramref name="threads"/> workers by blocks of 4 rows (or 4 columns when M is small).</summary>
    public static void Compute(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int m, int n, int k, int threads = 1)
    {
        Check(x.Length, w.Length, bias.Length, y.Length, m, n, k);
        if (m == 0 || n == 0) return;
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            var job = new Job(px, pw, bias.IsEmpty ? null : pb, py, n, k);
            int rowTiles = (m + Tile - 1) / Tile, colTiles = (n + Tile - 1) / Tile;
            // Split the dimension with more tiles; boundaries fall on the 4×4 grid (see class remarks).
            bool byRows = rowTiles >= colTiles;
            int tiles = byRows ? rowTiles : colTiles;
            long work = (long)m * n * k;
            int workers = work < 1 << 18 ? 1 : Math.Min(threads, tiles);
            Workers.For(tiles, workers, (t0, t1) =>
            {
                if (byRows) job.Run(t0 * Tile, Math.Min(m, t1 * Tile), 0, n);
                else job.Run(0, m, t0 * Tile, Math.Min(n, t1 * Tile));
            });
        }
    }

    /// <summary>Single-threaded product for callers that already run in parallel (e.g. one attention head each).</summary>
    public static void ComputeSerial(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int m, int n, int k)
    {
        Check(x.Length, w.Length, bias.Length, y.Length, m, n, k);
        if (m == 0 || n == 0) return;
        fixed (float* px = x, pw = w, pb = bias, py = y)
            new Job(px, pw, bias.IsEmpty ? null : pb, py, n, k).Run(0, m, 0, n);
    }

    private static void Check(int xl, int wl, int bl, int yl, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "negative dimension");
        if (xl < (long)m * k || wl < (long)n * k || yl < (long)m * n || (bl != 0 && bl < n))
            throw new ArgumentException($"Gemm: buffers too small for M={m} N={n} K={k} (x {xl}, w {wl}, bias {bl}, y {yl})");
    }

    private readonly struct Job(float* x, float* w, float* bias, float* y, int n, int k)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int r0, int r1, int c0, int c1)
        {
            int r = r0;
            for (; r + Tile <= r1; r += Tile)
            {
                int c = c0;
                for (; c + Tile <= c1; c += Tile) Kernel4x4(r, c);
                for (; c < c1; c++) for (int i = 0; i < Tile; i++) Kernel1x1(r + i, c);
            }
            for (; r < r1; r++)
            {
                int c = c0;
                for (; c + Tile <= c1; c += Tile) Kernel1x4(r, c);
                for (; c < c1; c++) Kernel1x1(r, c);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Kernel4x4(int r, int c)
        {
            float* x0 = x + (long)r * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
            float* w0 = w + (long)c * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
            var a00 = Vector256<float>.Zero; var a01 = a00; var a02 = a00; var a03 = a00;
            var a10 = a00; var a11 = a00; var a12 = a00; var a13 = a00;
            var a20 = a00; var a21 = a00; var a22 = a00; var a23 = a00;
            var a30 = a00; var a31 = a00; var a32 = a00; var a33 = a00;
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= k; i += 8)
                {
                    var b0 = Vector256.Load(w0 + i); var b1 = Vector256.Load(w1 + i);
                    var b2 = Vector256.Load(w2 + i); var b3 = Vector256.Load(w3 + i);
                    var v = Vector256.Load(x0 + i);
                    a00 = Vector256.FusedMultiplyAdd(v, b0, a00); a01 = Vector256.FusedMultiplyAdd(v, b1, a01);
                    a02 = Vector256.FusedMultiplyAdd(v, b2, a02); a03 = Vector256.FusedMultiplyAdd(v, b3, a03);
                    v = Vector256.Load(x1 + i);
                    a10 = Vector256.FusedMultiplyAdd(v, b0, a10); a11 = Vector256.FusedMultiplyAdd(v, b1, a11);
                    a12 = Vector256.FusedMultiplyAdd(v, b2, a12); a13 = Vector256.FusedMultiplyAdd(v, b3, a13);
                    v = Vector256.Load(x2 + i);
                    a20 = Vector256.FusedMultiplyAdd(v, b0, a20); a21 = Vector256.FusedMultiplyAdd(v, b1, a21);
                    a22 = Vector256.FusedMultiplyAdd(v, b2, a22); a23 = Vector256.FusedMultiplyAdd(v, b3, a23);
                    v = Vector256.Load(x3 + i);
                    a30 = Vector256.FusedMultiplyAdd(v, b0, a30); a31 = Vector256.FusedMultiplyAdd(v, b1, a31);
                    a32 = Vector256.FusedMultiplyAdd(v, b2, a32); a33 = Vector256.FusedMultiplyAdd(v, b3, a33);
                }
            }
            float* y0 = y + (long)r * n + c;
            Store(y0 + 0, Vector256.Sum(a00), x0, w0, i, c + 0); Store(y0 + 1, Vector256.Sum(a01), x0, w1, i, c + 1);
            Store(y0 + 2, Vector256.Sum(a02), x0, w2, i, c + 2); Store(y0 + 3, Vector256.Sum(a03), x0, w3, i, c + 3);
            y0 += n;
            Store(y0 + 0, Vector256.Sum(a10), x1, w0, i, c + 0); Store(y0 + 1, Vector256.Sum(a11), x1, w1, i, c + 1);
            Store(y0 + 2, Vector256.Sum(a12), x1, w2, i, c + 2); Store(y0 + 3, Vector256.Sum(a13), x1, w3, i, c + 3);
            y0 += n;
            Store(y0 + 0, Vector256.Sum(a20), x2, w0, i, c + 0); Store(y0 + 1, Vector256.Sum(a21), x2, w1, i, c + 1);
            Store(y0 + 2, Vector256.Sum(a22), x2, w2, i, c + 2); Store(y0 + 3, Vector256.Sum(a23), x2, w3, i, c + 3);
            y0 += n;
            Store(y0 + 0, Vector256.Sum(a30), x3, w0, i, c + 0); Store(y0 + 1, Vector256.Sum(a31), x3, w1, i, c + 1);
            Store(y0 + 2, Vector256.Sum(a32), x3, w2, i, c + 2); Store(y0 + 3, Vector256.Sum(a33), x3, w3, i, c + 3);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Kernel1x4(int r, int c)
        {
            float* x0 = x + (long)r * k;
            float* w0 = w + (long)c * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
            var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i + 8 <= k; i += 8)
                {
                    var v = Vector256.Load(x0 + i);
                    a0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w0 + i), a0);
                    a1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w1 + i), a1);
                    a2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w2 + i), a2);
                    a3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w3 + i), a3);
                }
            }
            float* y0 = y + (long)r * n + c;
            Store(y0 + 0, Vector256.Sum(a0), x0, w0, i, c + 0); Store(y0 + 1, Vector256.Sum(a1), x0, w1, i, c + 1);
            Store(y0 + 2, Vector256.Sum(a2), x0, w2, i, c + 2); Store(y0 + 3, Vector256.Sum(a3), x0, w3, i, c + 3);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Kernel1x1(int r, int c)
        {
            float* x0 = x + (long)r * k, w0 = w + (long)c * k;
            var a = Vector256<float>.Zero;
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= k; i += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(x0 + i), Vector256.Load(w0 + i), a);
            Store(y + (long)r * n + c, Vector256.Sum(a), x0, w0, i, c);
        }

        /// <summary>Finishes one dot product: SIMD partial sum + scalar tail from <paramref name="i"/> + bias.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(float* dst, float partial, float* xr, float* wr, int i, int col)
        {
            for (; i < k; i++) partial = MathF.FusedMultiplyAdd(xr[i], wr[i], partial);
            *dst = partial + (bias == null ? 0f : bias[col]);
        }
    }
}

/// <summary>The plain triple loop: the oracle the SIMD kernel is tested against, kept forever.</summary>
public static class GemmReference
{
    public static void Compute(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int m, int n, int k)
    {
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double s = bias.IsEmpty ? 0 : bias[c];
                for (int i = 0; i < k; i++) s += (double)x[r * k + i] * w[c * k + i];
                y[r * n + c] = (float)s;
            }
    }
}
