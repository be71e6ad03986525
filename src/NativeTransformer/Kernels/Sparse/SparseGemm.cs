using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NativeTransformer.Kernels.Packed;

namespace NativeTransformer.Kernels.Sparse;

/// <summary>
/// fp32 GEMM over a sparse weight (<see cref="SparseMatrix"/>): y = act(x·Wᵀ + bias) + residual.
///
/// Two kernels, one arithmetic:
///   row tiles  — TileRows rows of x (16 on Vector512, 8 on Vector256, 4 on Vector128) are transposed into
///                xᵀ[k·TileRows + r]; for each slice, 16 accumulators (one per output row of the slice, each a vector
///                over the tile's rows) take, per step, one broadcast of the weight times the contiguous xᵀ row of its
///                column. Padded rows of a ragged tile are zeros and are not written back.
///   few rows   — when a tile would hold fewer than <see cref="FewRowsMax"/> real rows (M = 1, 2 or the tail of a
///                batch) each row runs alone: per step, 16 weights and 16 gathered x values (AVX2 gathers, else scalar).
/// Either way y[m, n] is the FMA chain acc = fma(wⱼ, x[m, colⱼ], acc) over the steps of n's slice in order, from 0,
/// then + bias, activation (on fixed 64-column segments, as <see cref="PackedGemm"/>), + residual — so the result is
/// bitwise identical for every path, thread count and batch composition. It is also the packed dense GEMM's chain with the
/// zero-weight terms left out, and fma(0, x, acc) = acc exactly for finite x, so for finite inputs a pruned model gives the
/// same bits through either kernel (measured: max |Δlogit| = 0 on SST-2 dev with bert-mini pruned to 90 %).
/// </summary>
public static unsafe class SparseGemm
{
    private const int S = SparseMatrix.SliceWidth;
    /// <summary>Slices per epilogue segment (64 columns) and per unit of the column split.</summary>
    internal const int GroupSlices = 4;
    /// <summary>Tiles with fewer real rows than this use the per-row kernel (measured: the padded tile costs the same whatever its rows).</summary>
    internal static int FewRowsMax = 3;

    internal static readonly KernelPath Best = PackedGemm.Best;

    /// <summary>Which SIMD path runs on this machine: "avx512", "avx2", "vector128" or "scalar".</summary>
    public static string Isa => PackedGemm.Isa;

    /// <summary>Rows per tile of the row-tile kernel on <paramref name="path"/> (1 = scalar: every row runs alone).</summary>
    internal static int TileRows(KernelPath path) => path switch
    {
        KernelPath.Vector512 => 16,
        KernelPath.Vector256 => 8,
        KernelPath.Vector128 => 4,
        _ => 1,
    };

    /// <summary>y[m, n] = act(Σₖ x[m, k]·W[n, k] + bias[n]) + residual[m, n]; bias and residual may be null.</summary>
    public static void Compute(float* x, int m, SparseMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, WorkerPool? pool)
        => ComputeWith(Best, x, m, w, bias, residual, y, epilogue, pool);

    /// <summary><see cref="Compute"/> on a chosen path (tests force every fallback).</summary>
    internal static void ComputeWith(KernelPath path, float* x, int m, SparseMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, WorkerPool? pool)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (!PackedGemm.IsSupported(path)) throw new PlatformNotSupportedException($"SparseGemm: {path} is not supported here");
        if (m == 0 || w.N == 0) return;
        if (x == null && w.K > 0 || y == null) throw new ArgumentNullException(y == null ? nameof(y) : nameof(x));

        var job = t_job ??= new Job();
        job.Set(path, x, m, w, bias, residual, y, epilogue);
        int tiles = (m + job.Tile - 1) / job.Tile, groups = (w.Slices + GroupSlices - 1) / GroupSlices;
        int threads = pool?.Threads ?? 1;
        double flops = 2.0 * m * w.Steps * S;
        try
        {
            if (threads > 1 && flops >= 1 << 19)
            {
                job.ByRows = tiles >= 2 * threads || tiles >= groups;
                pool!.For(job.ByRows ? tiles : groups, job);
            }
            else
            {
                job.ByRows = true;
                job.Execute(0, tiles, 0);
            }
        }
        finally { job.Clear(); }
        w.KeepAlive();
    }

    [ThreadStatic] private static Job? t_job;
    [ThreadStatic] private static float[]? t_buffer;
    [ThreadStatic] private static float* t_bufferPtr;

    /// <summary>This thread's 64-byte aligned scratch of at least <paramref name="floats"/> (grows, never shrinks).</summary>
    private static float* Buffer(int floats)
    {
        if (t_buffer == null || t_buffer.Length < floats + 16)
        {
            t_buffer = GC.AllocateUninitializedArray<float>(Math.Max(floats, 16 * 1024) + 16, pinned: true);
            float* p = (float*)Unsafe.AsPointer(ref t_buffer[0]);
            t_bufferPtr = p + (int)((64 - ((nint)p & 63)) & 63) / sizeof(float);
        }
        return t_bufferPtr;
    }

    /// <summary>One call's arguments; cached per calling thread so calls do not allocate.</summary>
    private sealed class Job : IParallelWork
    {
        private KernelPath _path;
        private float* _x, _bias, _residual, _y;
        private int _m;
        private SparseMatrix? _w;
        private Epilogue _epilogue;
        public int Tile;
        public bool ByRows;

        public void Set(KernelPath path, float* x, int m, SparseMatrix w, float* bias, float* residual, float* y, Epilogue epilogue)
        {
            _path = path; _x = x; _m = m; _w = w; _bias = bias; _residual = residual; _y = y; _epilogue = epilogue;
            Tile = TileRows(path);
        }

        public void Clear() { _w = null; _x = _bias = _residual = _y = null; }

        public void Execute(int start, int end, int worker)
        {
            var w = _w!;
            if (ByRows) Run(start * Tile, Math.Min(end * Tile, _m), 0, w.Slices);
            else Run(0, _m, start * GroupSlices, Math.Min(end * GroupSlices, w.Slices));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Run(int r0, int r1, int s0, int s1)
        {
            var w = _w!;
            int k = w.K, n = w.N, t = Tile;
            float* xt = Buffer(k * t + S * t);
            float* tmp = xt + k * t;   // S × t results of one slice, output-major
            for (int r = r0; r < r1; r += t)
            {
                int rows = Math.Min(t, r1 - r);
                if (t == 1 || rows < FewRowsMax)
                    for (int i = 0; i < rows; i++) FewRows(_x + (long)(r + i) * k, w, s0, s1, _y + (long)(r + i) * n);
                else
                {
                    Transpose(_x + (long)r * k, k, rows, t, xt);
                    for (int s = s0; s < s1; s++)
                    {
                        var (start, steps) = w.Slice(s);
                        float* v = w.Values + (long)start * S;
                        int* c = w.Columns + (long)start * S;
                        int cols = Math.Min(S, n - s * S);
                        float* dst = _y + (long)r * n + s * S;
                        if (_path == KernelPath.Vector512) { TileV512(xt, v, c, steps, dst, n, rows, cols, tmp); continue; }
                        if (_path == KernelPath.Vector256) TileV256(xt, v, c, steps, tmp);
                        else TileV128(xt, v, c, steps, tmp);
                        for (int i = 0; i < rows; i++)
                            for (int o = 0; o < cols; o++) dst[(long)i * n + o] = tmp[o * t + i];
                    }
                }
                Finish(r, rows, s0, s1);
            }
        }

        /// <summary>x[r.., :] (rows × k) → xt[p·t + i], zero rows up to t.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Transpose(float* x, int k, int rows, int t, float* xt)
        {
            if (rows < t) new Span<float>(xt, k * t).Clear();
            for (int i = 0; i < rows; i++)
            {
                float* src = x + (long)i * k;
                float* dst = xt + i;
                for (int p = 0; p < k; p++) dst[(nint)p * t] = src[p];
            }
        }

        /// <summary>One row: y[s·16 + o] for the slices [s0, s1).</summary>
        private void FewRows(float* x, SparseMatrix w, int s0, int s1, float* y)
        {
            int n = w.N;
            float* acc = stackalloc float[S];
            for (int s = s0; s < s1; s++)
            {
                var (start, steps) = w.Slice(s);
                float* v = w.Values + (long)start * S;
                int* c = w.Columns + (long)start * S;
                if (_path != KernelPath.Scalar && Avx2.IsSupported) RowAvx2(x, v, c, steps, acc);
                else RowScalar(x, v, c, steps, acc);
                int cols = Math.Min(S, n - s * S);
                new ReadOnlySpan<float>(acc, cols).CopyTo(new Span<float>(y + s * S, cols));
            }
        }

        /// <summary>Epilogue on rows [r, r+rows) × slices [s0, s1), per fixed 64-column segment.</summary>
        private void Finish(int r, int rows, int s0, int s1)
        {
            if (_bias == null && _residual == null && _epilogue == Epilogue.None) return;
            int n = _w!.N;
            for (int g = s0; g < s1; g += GroupSlices)
            {
                int c0 = g * S, len = Math.Min(GroupSlices * S, n - c0);
                for (int i = 0; i < rows; i++)
                    SparseReference.FinishSegment(_y + (long)(r + i) * n + c0, len, _bias == null ? null : _bias + c0,
                        _residual == null ? null : _residual + (long)(r + i) * n + c0, _epilogue);
            }
        }
    }

    /// <summary>Scalar chain per output of one slice for one row (the reference arithmetic).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RowScalar(float* x, float* v, int* c, int steps, float* acc)
    {
        for (int o = 0; o < S; o++) acc[o] = 0f;
        for (int j = 0; j < steps; j++, v += S, c += S)
            for (int o = 0; o < S; o++) acc[o] = MathF.FusedMultiplyAdd(v[o], x[c[o]], acc[o]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowAvx2(float* x, float* v, int* c, int steps, float* acc)
    {
        var a0 = Vector256<float>.Zero;
        var a1 = Vector256<float>.Zero;
        for (int j = 0; j < steps; j++, v += S, c += S)
        {
            var g0 = Avx2.GatherVector256(x, Vector256.Load(c), 4);
            var g1 = Avx2.GatherVector256(x, Vector256.Load(c + 8), 4);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(v), g0, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(v + 8), g1, a1);
        }
        a0.Store(acc);
        a1.Store(acc + 8);
    }

    /// <summary>16 rows × 16 outputs: accumulator o is output o over the tile's rows; per step one broadcast-FMA per output.
    /// Writes rows × cols of y (row stride <paramref name="ldy"/>); <paramref name="tmp"/> is 256 floats of scratch for a ragged tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileV512(float* xt, float* v, int* c, int steps, float* y, nint ldy, int rows, int cols, float* tmp)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default,
            a8 = default, a9 = default, a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default;
        for (int j = 0; j < steps; j++, v += S, c += S)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(v[0]), Vector512.Load(xt + (nint)c[0] * 16), a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(v[1]), Vector512.Load(xt + (nint)c[1] * 16), a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(v[2]), Vector512.Load(xt + (nint)c[2] * 16), a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(v[3]), Vector512.Load(xt + (nint)c[3] * 16), a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(v[4]), Vector512.Load(xt + (nint)c[4] * 16), a4);
            a5 = Vector512.FusedMultiplyAdd(Vector512.Create(v[5]), Vector512.Load(xt + (nint)c[5] * 16), a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(v[6]), Vector512.Load(xt + (nint)c[6] * 16), a6);
            a7 = Vector512.FusedMultiplyAdd(Vector512.Create(v[7]), Vector512.Load(xt + (nint)c[7] * 16), a7);
            a8 = Vector512.FusedMultiplyAdd(Vector512.Create(v[8]), Vector512.Load(xt + (nint)c[8] * 16), a8);
            a9 = Vector512.FusedMultiplyAdd(Vector512.Create(v[9]), Vector512.Load(xt + (nint)c[9] * 16), a9);
            a10 = Vector512.FusedMultiplyAdd(Vector512.Create(v[10]), Vector512.Load(xt + (nint)c[10] * 16), a10);
            a11 = Vector512.FusedMultiplyAdd(Vector512.Create(v[11]), Vector512.Load(xt + (nint)c[11] * 16), a11);
            a12 = Vector512.FusedMultiplyAdd(Vector512.Create(v[12]), Vector512.Load(xt + (nint)c[12] * 16), a12);
            a13 = Vector512.FusedMultiplyAdd(Vector512.Create(v[13]), Vector512.Load(xt + (nint)c[13] * 16), a13);
            a14 = Vector512.FusedMultiplyAdd(Vector512.Create(v[14]), Vector512.Load(xt + (nint)c[14] * 16), a14);
            a15 = Vector512.FusedMultiplyAdd(Vector512.Create(v[15]), Vector512.Load(xt + (nint)c[15] * 16), a15);
        }
        // a[o] holds output o over the 16 rows; y wants row i over the 16 outputs: transpose in registers
        // (unpack ps, unpack pd, two 128-bit lane shuffles), then store whole rows — 64 shuffles instead of 256 scalar moves.
        Vector512<float> t0 = Avx512F.UnpackLow(a0, a1), t1 = Avx512F.UnpackHigh(a0, a1), t2 = Avx512F.UnpackLow(a2, a3), t3 = Avx512F.UnpackHigh(a2, a3),
            t4 = Avx512F.UnpackLow(a4, a5), t5 = Avx512F.UnpackHigh(a4, a5), t6 = Avx512F.UnpackLow(a6, a7), t7 = Avx512F.UnpackHigh(a6, a7),
            t8 = Avx512F.UnpackLow(a8, a9), t9 = Avx512F.UnpackHigh(a8, a9), t10 = Avx512F.UnpackLow(a10, a11), t11 = Avx512F.UnpackHigh(a10, a11),
            t12 = Avx512F.UnpackLow(a12, a13), t13 = Avx512F.UnpackHigh(a12, a13), t14 = Avx512F.UnpackLow(a14, a15), t15 = Avx512F.UnpackHigh(a14, a15);
        a0 = LoPd(t0, t2); a1 = HiPd(t0, t2); a2 = LoPd(t1, t3); a3 = HiPd(t1, t3);
        a4 = LoPd(t4, t6); a5 = HiPd(t4, t6); a6 = LoPd(t5, t7); a7 = HiPd(t5, t7);
        a8 = LoPd(t8, t10); a9 = HiPd(t8, t10); a10 = LoPd(t9, t11); a11 = HiPd(t9, t11);
        a12 = LoPd(t12, t14); a13 = HiPd(t12, t14); a14 = LoPd(t13, t15); a15 = HiPd(t13, t15);
        t0 = Avx512F.Shuffle4x128(a0, a4, 0x88); t1 = Avx512F.Shuffle4x128(a1, a5, 0x88); t2 = Avx512F.Shuffle4x128(a2, a6, 0x88); t3 = Avx512F.Shuffle4x128(a3, a7, 0x88);
        t4 = Avx512F.Shuffle4x128(a0, a4, 0xDD); t5 = Avx512F.Shuffle4x128(a1, a5, 0xDD); t6 = Avx512F.Shuffle4x128(a2, a6, 0xDD); t7 = Avx512F.Shuffle4x128(a3, a7, 0xDD);
        t8 = Avx512F.Shuffle4x128(a8, a12, 0x88); t9 = Avx512F.Shuffle4x128(a9, a13, 0x88); t10 = Avx512F.Shuffle4x128(a10, a14, 0x88); t11 = Avx512F.Shuffle4x128(a11, a15, 0x88);
        t12 = Avx512F.Shuffle4x128(a8, a12, 0xDD); t13 = Avx512F.Shuffle4x128(a9, a13, 0xDD); t14 = Avx512F.Shuffle4x128(a10, a14, 0xDD); t15 = Avx512F.Shuffle4x128(a11, a15, 0xDD);
        bool whole = rows == 16 && cols == 16;
        float* d = whole ? y : tmp;
        nint ld = whole ? ldy : 16;
        Avx512F.Shuffle4x128(t0, t8, 0x88).Store(d); Avx512F.Shuffle4x128(t1, t9, 0x88).Store(d + ld);
        Avx512F.Shuffle4x128(t2, t10, 0x88).Store(d + 2 * ld); Avx512F.Shuffle4x128(t3, t11, 0x88).Store(d + 3 * ld);
        Avx512F.Shuffle4x128(t4, t12, 0x88).Store(d + 4 * ld); Avx512F.Shuffle4x128(t5, t13, 0x88).Store(d + 5 * ld);
        Avx512F.Shuffle4x128(t6, t14, 0x88).Store(d + 6 * ld); Avx512F.Shuffle4x128(t7, t15, 0x88).Store(d + 7 * ld);
        Avx512F.Shuffle4x128(t0, t8, 0xDD).Store(d + 8 * ld); Avx512F.Shuffle4x128(t1, t9, 0xDD).Store(d + 9 * ld);
        Avx512F.Shuffle4x128(t2, t10, 0xDD).Store(d + 10 * ld); Avx512F.Shuffle4x128(t3, t11, 0xDD).Store(d + 11 * ld);
        Avx512F.Shuffle4x128(t4, t12, 0xDD).Store(d + 12 * ld); Avx512F.Shuffle4x128(t5, t13, 0xDD).Store(d + 13 * ld);
        Avx512F.Shuffle4x128(t6, t14, 0xDD).Store(d + 14 * ld); Avx512F.Shuffle4x128(t7, t15, 0xDD).Store(d + 15 * ld);
        if (whole) return;
        for (int i = 0; i < rows; i++)
            new ReadOnlySpan<float>(tmp + i * 16, cols).CopyTo(new Span<float>(y + i * ldy, cols));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LoPd(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HiPd(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();

    /// <summary>8 rows × 16 outputs; the accumulators live in a stack array (AVX2 has 16 registers in all).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileV256(float* xt, float* v, int* c, int steps, float* tmp)
    {
        var acc = stackalloc Vector256<float>[S];
        for (int o = 0; o < S; o++) acc[o] = Vector256<float>.Zero;
        for (int j = 0; j < steps; j++, v += S, c += S)
            for (int o = 0; o < S; o++)
                acc[o] = Vector256.FusedMultiplyAdd(Vector256.Create(v[o]), Vector256.Load(xt + (nint)c[o] * 8), acc[o]);
        for (int o = 0; o < S; o++) acc[o].Store(tmp + o * 8);
    }

    /// <summary>4 rows × 16 outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileV128(float* xt, float* v, int* c, int steps, float* tmp)
    {
        var acc = stackalloc Vector128<float>[S];
        for (int o = 0; o < S; o++) acc[o] = Vector128<float>.Zero;
        for (int j = 0; j < steps; j++, v += S, c += S)
            for (int o = 0; o < S; o++)
                acc[o] = Vector128.FusedMultiplyAdd(Vector128.Create(v[o]), Vector128.Load(xt + (nint)c[o] * 4), acc[o]);
        for (int o = 0; o < S; o++) acc[o].Store(tmp + o * 4);
    }
}
