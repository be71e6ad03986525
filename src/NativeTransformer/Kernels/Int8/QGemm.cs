using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeTransformer.Kernels.Int8;

/*
 * Dynamic-quantization int8 GEMM:  y[m, n] ≈ act(x[m,:]·W[n,:] + bias[n]) + residual[m, n].
 *
 * Quantization scheme
 *   Weights (at load, QuantizedMatrix): per output channel n, symmetric s8, no zero point:
 *       W[n,k] ≈ sw[n] · q[n,k],   sw[n] = max_k |W[n,k]| / 127,   q = round_half_even(W / sw) ∈ [−127, 127]
 *       (FromInt8 accepts the full [−128, 127]).
 *   Activations (every call, per row = per token): asymmetric u8 with a per-row zero point:
 *       x[m,k] ≈ sx[m] · (xq[m,k] − zx[m]),   lo = min(0, min_k x), hi = max(0, max_k x),
 *       sx = (hi − lo)/255,  zx = clamp(round_half_even(−lo/sx), 0, 255),  xq = clamp(round_half_even(x/sx) + zx, 0, 255)
 *       (a row of zeros gets sx = 0, zx = 0, xq = 0; 0 is always exactly representable).
 *   Why per-row asymmetric u8: (1) per row, a token with outlier features (BERT has a few hidden dimensions ~10–20× the
 *   rest) does not coarsen every other token's grid, as PyTorch's / ORT's per-tensor scale does; (2) asymmetric uses all
 *   256 levels on skewed rows (GELU outputs ∈ [−0.17, max] feeding FFN2) where symmetric s8 would waste half the range;
 *   on symmetric rows it is as good as symmetric s8; (3) u8 is the operand type vpdpbusd / vpmaddubsw want unsigned.
 *   PyTorch's x86 dynamic int8 (fbgemm, reduce_range=True) uses 7-bit per-tensor activations; ours are 8-bit per row.
 *
 * Algebra (MLAS qgemm.h style), exact in int32:
 *       Σ_k x[m,k]·W[n,k] ≈ sx[m]·sw[n] · Σ_k (xq[m,k] − zx[m])·q[n,k]
 *                        = sx[m]·sw[n] · ( acc[m,n] − zx[m]·colsum[n] ),
 *       acc[m,n] = Σ_k xq[m,k]·q[n,k]  (u8·s8 → s32, the kernels' job),   colsum[n] = Σ_k q[n,k]  (precomputed at pack time).
 *   |acc| ≤ K·255·128 < 2³¹ for K ≤ 65536 (enforced), and zx·colsum likewise, so the correction is exact integer math.
 *   Dequantization, shared by every path:  y = (float)(acc − zx·colsum) · (sx·sw) + bias  (no FMA, fixed order), then
 *   the activation over the whole output row, then + residual (Activations.FinishSegment). Because acc is an exact
 *   integer and the epilogue is one piece of code, every path, every thread count and every batch composition give
 *   bitwise-identical outputs.
 *
 * Saturation strategy (the int32 sums must be exact on every path):
 *   vpmaddubsw (u8×s8 → s16 pair sums, saturating) overflows for 2·255·127 = 64770 > 32767, so it is NOT used. Instead:
 *   - AVX-512BW / AVX2: weights stay s8 in memory and are sign-extended to s16 in registers (vpmovsxbw, 1 per 4 rows of
 *     work); activations are stored as s16 (0..255) and broadcast 4 at a time (vpbroadcastq); vpmaddwd s16×s16 → s32 pair
 *     sums, whose magnitude ≤ 2·255·128 = 65280 cannot saturate anything; then vpaddd. On Zen 4 this costs the same
 *     multiply-pipe throughput as vpmaddubsw+vpmaddwd(ones) (one 512-bit multiply µop per 32 MACs either way) without
 *     giving up the 8th activation bit (the 7-bit "reduce_range" trick) or a weight bit.
 *   - AVX-VNNI: vpdpbusd sums 4 u8·s8 products into s32 with no intermediate saturation.
 *   - Scalar: plain int math (the oracle).
 *   So there is no input (any xq ∈ [0,255], any q ∈ [−128,127]) for which the paths disagree; a torture test checks it.
 *
 * Activation quantization runs once per row before the GEMM (phase 0) and writes only the copy the path reads (u8 for
 * AVX-VNNI and scalar, u8 + s16 for the vpmaddwd paths); with AVX-512 it is vcvtps2dq (round-to-nearest-even, the default
 * MXCSR mode: the same integer as round_half_even) + vpmovdb, bit-identical to the scalar definition (tested, lengths 0..256).
 *
 * Layout and tiling: see QuantizedMatrix (16-column panels × k-groups of 4, 64 bytes per group). Micro-tiles are
 * 4 rows × 32 columns (two panels, 16 zmm accumulators) on AVX-512, 6 × 16 on AVX-VNNI (12 ymm accumulators: vpdpbusd has
 * ~5 cycles latency and issues twice per cycle, so 8 chains capped it at ~80 %; a VEX instruction names only 16 registers,
 * which rules out wider tiles), 2 × 16 on AVX2; which panels get
 * paired depends on the split, which is harmless because the integer sums are exact. Work is split over row blocks (large M) or panels (small M); either way the
 * activation and residual are applied to whole rows so the GELU's vector/tail split never depends on the split.
 */

/// <summary>Dynamic-quantization int8 GEMM (see the file header for the scheme, algebra and saturation strategy).</summary>
public static unsafe class QGemm
{
    internal enum Path { Scalar, Avx2, Avx512BW, AvxVnni }

    private const int MaxTileRows = 6;
    private const int ChunkTiles = 8;   // tiles of rows whose activations stay hot while a weight panel is swept (byRows split)

    /// <summary>Rows per micro-tile: 6 for AVX-VNNI (12 accumulator chains hide vpdpbusd's latency), 4 for the others.</summary>
    internal static int TileRows(Path p) => p == Path.AvxVnni ? 6 : 4;

    internal static readonly Path Best = Detect();

    private static Path Detect()
    {
#if NET10_0_OR_GREATER
        if (AvxVnni.IsSupported) return Path.AvxVnni;
#endif
        if (Avx512BW.IsSupported && Avx512F.IsSupported) return Path.Avx512BW;
        if (Avx2.IsSupported) return Path.Avx2;
        return Path.Scalar;
    }

    internal static bool IsSupported(Path p) => p switch
    {
        Path.Scalar => true,
        Path.Avx2 => Avx2.IsSupported,
        Path.Avx512BW => Avx512BW.IsSupported && Avx512F.IsSupported,
#if NET10_0_OR_GREATER
        Path.AvxVnni => AvxVnni.IsSupported,
#endif
        _ => false,
    };

    internal static string Name(Path p) => p switch
    {
        Path.AvxVnni => "avxvnni", Path.Avx512BW => "avx512bw", Path.Avx2 => "avx2", _ => "scalar",
    };

    /// <summary>Which path runs here: "avxvnni", "avx512bw", "avx2" or "scalar".</summary>
    public static string Isa => Name(Best);

    /// <summary>
    /// y[m, n] ≈ act(x[m,:]·W[n,:] + bias[n]) + residual[m, n] with x quantized per row at run time and W per channel at load;
    /// int32 accumulation, dequantized with the fused scale product. x is [M, K], y and residual [M, N]; bias and residual may be
    /// null. Work is split over <paramref name="pool"/> (null = single thread); results are bitwise identical for any thread
    /// count and whatever other rows x holds.
    /// </summary>
    public static void Compute(float* x, int m, QuantizedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, QGemmScratch scratch, WorkerPool? pool)
        => Compute(x, m, w, bias, residual, y, epilogue, scratch, pool, Best);

    [ThreadStatic] private static Job? t_job;

    internal static void Compute(float* x, int m, QuantizedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, QGemmScratch scratch, WorkerPool? pool, Path path)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(scratch);
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m));
        if (m > scratch.MaxRows || w.K > scratch.MaxK)
            throw new ArgumentException($"QGemm: scratch sized for {scratch.MaxRows}×{scratch.MaxK}, call needs {m}×{w.K}");
        if (!IsSupported(path)) throw new PlatformNotSupportedException($"QGemm path {Name(path)} is not supported on this CPU");
        if (m == 0 || w.N == 0) return;
        if (x == null || y == null) throw new ArgumentNullException(x == null ? nameof(x) : nameof(y));

        var job = t_job ??= new Job();
        int threads = pool?.Threads ?? 1;
        long work = (long)m * w.N * Math.Max(w.K, 1);
        if (work < 1 << 17) threads = 1;
        int tr = TileRows(path);
        int rowBlocks = (m + tr - 1) / tr;
        job.Set(x, m, w, bias, residual, y, epilogue, scratch, path);

        // Phase 0: quantize the activation rows.
        job.Phase = 0;
        if (threads > 1 && m >= 2 * threads) pool!.For(m, job); else job.Execute(0, m, 0);

        // Phase 1: integer GEMM + dequantization (+ activation/residual on whole rows when the split is by rows).
        bool byRows = threads == 1 || rowBlocks >= 2 * threads;
        job.ByRows = byRows;
        job.Phase = 1;
        int units = byRows ? rowBlocks : w.Panels;
        if (threads > 1) pool!.For(units, job); else job.Execute(0, units, 0);

        // Phase 2 (split by panels only): activation and residual per whole row.
        if (!byRows && (epilogue != Epilogue.None || residual != null))
        {
            job.Phase = 2;
            if (threads > 1 && m >= 2) pool!.For(m, job); else job.Execute(0, m, 0);
        }
        job.Clear();
    }

    private sealed class Job : IParallelWork
    {
        public int Phase;
        public bool ByRows;
        private int _tr;
        private float* _x, _bias, _residual, _y;
        private int _m;
        private QuantizedMatrix? _w;
        private QGemmScratch? _s;
        private Epilogue _epilogue;
        private Path _path;

        public void Set(float* x, int m, QuantizedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, QGemmScratch s, Path path)
        {
            _x = x; _m = m; _w = w; _bias = bias; _residual = residual; _y = y; _epilogue = epilogue; _s = s; _path = path;
            _tr = TileRows(path);
        }

        public void Clear() { _w = null; _s = null; _x = _y = _bias = _residual = null; }

        public void Execute(int start, int end, int worker)
        {
            var w = _w!; var s = _s!;
            switch (Phase)
            {
                case 0:
                    for (int r = start; r < end; r++) QuantizeRow(_x + (long)r * w.K, w.K, s, r, Widened(_path));
                    return;
                case 2:
                    for (int r = start; r < end; r++) FinishRow(r);
                    return;
            }
            int* acc = stackalloc int[2 * MaxTileRows * 32];
            int tr = _tr;
            fixed (sbyte* packed = w.Packed)
            {
                if (ByRows)
                {
                    int rEnd = Math.Min(_m, end * tr);
                    for (int c0 = start * tr; c0 < rEnd; c0 += ChunkTiles * tr)
                    {
                        int c1 = Math.Min(rEnd, c0 + ChunkTiles * tr);
                        for (int p = 0; p < w.Panels; p += 2)
                            for (int r = c0; r < c1; r += tr) Tile(packed, r, Math.Min(tr, c1 - r), p, Math.Min(2, w.Panels - p), acc);
                        for (int r = c0; r < c1; r++) FinishRow(r);
                    }
                }
                else
                {
                    for (int p = start; p < end; p += 2)
                        for (int r = 0; r < _m; r += tr) Tile(packed, r, Math.Min(tr, _m - r), p, Math.Min(2, end - p), acc);
                }
            }
        }

        /// <summary>Rows r0.. against panels p (and p+1 when <paramref name="panels"/> is 2): exact integer tiles, then the shared dequantization.</summary>
        private void Tile(sbyte* packed, int r0, int rows, int p, int panels, int* acc)
        {
            var w = _w!; var s = _s!;
            sbyte* panel = packed + (long)p * 16 * w.K4;
            if (panels == 2 && _path == Path.Avx512BW)
            {
                int ld = s.MaxK4;
                int* acc2 = acc + MaxTileRows * 32;
                QGemmKernels.Avx512TwoPanels(rows, s.Xw + (long)r0 * ld, ld, panel, panel + 16 * w.K4, w.K4 / 4, acc, acc2);
                QGemmKernels.FoldPairs(rows, acc); QGemmKernels.FoldPairs(rows, acc2);
                Dequantize(acc, rows, r0, p, w, s, _bias, _y);
                Dequantize(acc2, rows, r0, p + 1, w, s, _bias, _y);
                return;
            }
            for (int i = 0; i < panels; i++)
            {
                RunKernel(_path, rows, s, r0, panel + (long)i * 16 * w.K4, w.K4 / 4, acc);
                Dequantize(acc, rows, r0, p + i, w, s, _bias, _y);
            }
        }

        private void FinishRow(int r)
        {
            long off = (long)r * _w!.N;
            Activations.FinishSegment(_y + off, null, _residual == null ? null : _residual + off, _w.N, _epilogue);
        }
    }

    /// <summary>Whether the path reads the s16 copy of the activations (the vpmaddwd paths) rather than the u8 one.</summary>
    internal static bool Widened(Path p) => p is Path.Avx512BW or Path.Avx2;

    /// <summary>One micro-tile: acc [rows, 16] (buffer of rows × 32 ints) = exact Σ_k xq·q for rows r0.. and one panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RunKernel(Path path, int rows, QGemmScratch s, int r0, sbyte* panel, int groups, int* acc)
    {
        int ld = s.MaxK4;
        switch (path)
        {
            case Path.Avx512BW: QGemmKernels.Avx512(rows, s.Xw + (long)r0 * ld, ld, panel, groups, acc); QGemmKernels.FoldPairs(rows, acc); break;
            case Path.Avx2: QGemmKernels.Avx2Path(rows, s.Xw + (long)r0 * ld, ld, panel, groups, acc); QGemmKernels.FoldPairs(rows, acc); break;
            case Path.AvxVnni: QGemmKernels.Vnni(rows, s.Xq + (long)r0 * ld, ld, panel, groups, acc); break;
            default: QGemmKernels.Scalar(rows, s.Xq + (long)r0 * ld, ld, panel, groups, acc); break;
        }
    }

    /// <summary>y = (float)(acc − zx·colsum) · (sx·sw) + bias for one tile; the one dequantization every path shares.</summary>
    internal static void Dequantize(int* acc, int rows, int r0, int p, QuantizedMatrix w, QGemmScratch s, float* bias, float* y)
    {
        int n = w.N, c0 = p * 16, cols = Math.Min(16, n - c0);
        fixed (int* colSum = &w.ColSums[c0])
        fixed (float* sw = &w.PaddedScales[c0])
        {
            for (int i = 0; i < rows; i++)
            {
                int r = r0 + i;
                int zx = s.RowZp[r]; float sx = s.RowScale[r];
                int* a = acc + i * 16;
                float* yr = y + (long)r * n + c0;
                if (cols == 16)
                {
                    var vz = Vector256.Create(zx); var vs = Vector256.Create(sx);
                    for (int j = 0; j < 16; j += 8)
                    {
                        var v = Vector256.ConvertToSingle(Vector256.Load(a + j) - vz * Vector256.Load(colSum + j)) * (vs * Vector256.Load(sw + j));
                        if (bias != null) v += Vector256.Load(bias + c0 + j);
                        v.Store(yr + j);
                    }
                }
                else
                {
                    for (int j = 0; j < cols; j++)
                    {
                        float v = (float)(a[j] - zx * colSum[j]) * (sx * sw[j]);
                        yr[j] = bias != null ? v + bias[c0 + j] : v;
                    }
                }
            }
        }
    }

    /// <summary>Quantizes row <paramref name="r"/> of x (length k) into the scratch: u8 (and, when <paramref name="widened"/>, the same
    /// values as s16 for the vpmaddwd paths), depth padded with zeros to K4. Every vector width computes the scalar loop's values
    /// exactly: clamp(round_half_even(x·inv) + zp, 0, 255); AVX-512 rounds with vcvtps2dq under the default round-to-nearest-even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeRow(float* x, int k, QGemmScratch s, int r, bool widened = true)
    {
        int ld = s.MaxK4, k4 = (k + 3) & ~3;
        byte* q = s.Xq + (long)r * ld; short* qw = s.Xw + (long)r * ld;
        float lo = 0, hi = 0;
        int i = 0;
        // The row's range with MinNative / MaxNative: one vminps / vmaxps each. .NET 10's Min / Max also order −0 below +0
        // and propagate NaN, ten instructions per call with a blend on the loop-carried chain, and that scan was most of
        // this function's time. ±0 cannot change lo, hi or anything computed from them; a NaN, which vminps may drop, is
        // tracked apart (an unordered compare ORed in) so that such a row still fails the finiteness check below.
        if (Vector512.IsHardwareAccelerated && k >= 32)
        {
            var lo0 = Vector512<float>.Zero; var hi0 = lo0; var lo1 = lo0; var hi1 = lo0; var nan = lo0;
            for (; i + 32 <= k; i += 32)
            {
                var a = Vector512.Load(x + i); var b = Vector512.Load(x + i + 16);
                lo0 = Vector512.MinNative(lo0, a); hi0 = Vector512.MaxNative(hi0, a); lo1 = Vector512.MinNative(lo1, b); hi1 = Vector512.MaxNative(hi1, b);
                nan |= Vector512.IsNaN(a) | Vector512.IsNaN(b);
            }
            lo0 = Vector512.MinNative(lo0, lo1); hi0 = Vector512.MaxNative(hi0, hi1);
            for (int j = 0; j < 16; j++) { lo = MathF.Min(lo, lo0[j]); hi = MathF.Max(hi, hi0[j]); }
            if (nan != Vector512<float>.Zero) hi = float.NaN;
        }
        else if (Vector256.IsHardwareAccelerated && k >= 8)
        {
            var lo0 = Vector256<float>.Zero; var hi0 = lo0; var lo1 = lo0; var hi1 = lo0; var nan = lo0;
            for (; i + 16 <= k; i += 16)
            {
                var a = Vector256.Load(x + i); var b = Vector256.Load(x + i + 8);
                lo0 = Vector256.MinNative(lo0, a); hi0 = Vector256.MaxNative(hi0, a); lo1 = Vector256.MinNative(lo1, b); hi1 = Vector256.MaxNative(hi1, b);
                nan |= Vector256.IsNaN(a) | Vector256.IsNaN(b);
            }
            for (; i + 8 <= k; i += 8)
            {
                var a = Vector256.Load(x + i);
                lo0 = Vector256.MinNative(lo0, a); hi0 = Vector256.MaxNative(hi0, a); nan |= Vector256.IsNaN(a);
            }
            lo0 = Vector256.MinNative(lo0, lo1); hi0 = Vector256.MaxNative(hi0, hi1);
            for (int j = 0; j < 8; j++) { lo = MathF.Min(lo, lo0[j]); hi = MathF.Max(hi, hi0[j]); }
            if (nan != Vector256<float>.Zero) hi = float.NaN;
        }
        for (; i < k; i++) { lo = MathF.Min(lo, x[i]); hi = MathF.Max(hi, x[i]); }

        float scale = (hi - lo) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale))
        {
            if (!float.IsFinite(scale)) throw new ArgumentException($"QGemm: activation row {r} contains NaN or infinity");
            s.RowScale[r] = 0; s.RowZp[r] = 0;
            new Span<byte>(q, k4).Clear(); new Span<short>(qw, k4).Clear();
            return;
        }
        float inv = 1f / scale;
        int zp = (int)Math.Clamp(MathF.Round(-lo / scale, MidpointRounding.ToEven), 0f, 255f);
        s.RowScale[r] = scale; s.RowZp[r] = zp;
        i = 0;
        if (Avx512F.IsSupported)
        {
            var vinv = Vector512.Create(inv); var vzp = Vector512.Create(zp);
            var zero = Vector512<int>.Zero; var max = Vector512.Create(255);
            for (; i + 16 <= k; i += 16)
            {
                var v = Vector512.Min(Vector512.Max(Avx512F.ConvertToVector512Int32(Vector512.Load(x + i) * vinv) + vzp, zero), max);
                Avx512F.ConvertToVector128Byte(v).Store(q + i);
                if (widened) Avx512F.ConvertToVector256Int16(v).Store(qw + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vinv = Vector256.Create(inv); var vzp = Vector256.Create(zp);
            var zero = Vector256<int>.Zero; var max = Vector256.Create(255);
            // |x·inv| ≤ 255 (the row's range is finite, checked above), so the plain conversion is exact and .NET's
            // saturating ConvertToInt32 (a NaN and overflow fix-up, four more instructions) would be dead work.
            for (; i + 16 <= k; i += 16)
            {
                var a = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32Native(Vector256.Round(Vector256.Load(x + i) * vinv)) + vzp, zero), max);
                var b = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32Native(Vector256.Round(Vector256.Load(x + i + 8) * vinv)) + vzp, zero), max);
                var h = Vector256.Narrow(a.AsUInt32(), b.AsUInt32());   // 16 × u16, lane order preserved
                if (widened) h.AsInt16().Store(qw + i);
                Vector128.Narrow(h.GetLower(), h.GetUpper()).Store(q + i);
            }
        }
        for (; i < k; i++)
        {
            int v = Math.Clamp((int)MathF.Round(x[i] * inv, MidpointRounding.ToEven) + zp, 0, 255);
            q[i] = (byte)v;
            if (widened) qw[i] = (short)v;
        }
        for (; i < k4; i++) { q[i] = 0; if (widened) qw[i] = 0; }
    }

    // ---------------------------------------------------------------- test and tool entry points

    /// <summary>Quantizes x [m, k] into the scratch (what phase 0 does).</summary>
    internal static void QuantizeActivations(float* x, int m, int k, QGemmScratch s)
    {
        for (int r = 0; r < m; r++) QuantizeRow(x + (long)r * k, k, s, r);
    }

    /// <summary>The raw int32 sums acc[m, n] = Σ_k xq[m,k]·q[n,k] of one path over already quantized activations (same tiles as Compute).</summary>
    internal static void Accumulate(QuantizedMatrix w, QGemmScratch s, int m, int* acc, Path path)
    {
        if (!IsSupported(path)) throw new PlatformNotSupportedException(Name(path));
        int* tile = stackalloc int[2 * MaxTileRows * 32];
        int tr = TileRows(path);
        int ld = s.MaxK4;
        fixed (sbyte* packed = w.Packed)
            for (int p = 0; p < w.Panels; p += 2)
                for (int r0 = 0; r0 < m; r0 += tr)
                {
                    int rows = Math.Min(tr, m - r0), panels = Math.Min(2, w.Panels - p);
                    sbyte* panel = packed + (long)p * 16 * w.K4;
                    if (panels == 2 && path == Path.Avx512BW)
                    {
                        QGemmKernels.Avx512TwoPanels(rows, s.Xw + (long)r0 * ld, ld, panel, panel + 16 * w.K4, w.K4 / 4, tile, tile + MaxTileRows * 32);
                        QGemmKernels.FoldPairs(rows, tile); QGemmKernels.FoldPairs(rows, tile + MaxTileRows * 32);
                    }
                    else
                        for (int i = 0; i < panels; i++) RunKernel(path, rows, s, r0, panel + (long)i * 16 * w.K4, w.K4 / 4, tile + i * MaxTileRows * 32);
                    for (int pi = 0; pi < panels; pi++)
                        for (int i = 0; i < rows; i++)
                            for (int j = 0; j < 16 && (p + pi) * 16 + j < w.N; j++)
                                acc[(long)(r0 + i) * w.N + (p + pi) * 16 + j] = tile[pi * MaxTileRows * 32 + i * 16 + j];
                }
    }
}

/// <summary>The plain-loop oracle: defines the exact integer result the kernels must reproduce.</summary>
public static class QGemmReference
{
    /// <summary>acc[m, n] = Σ_k xq[m, k] · q[n, k] in int math, from row-major u8 activations [m, k] and s8 weights [n, k].</summary>
    public static int[] Accumulate(ReadOnlySpan<byte> xq, ReadOnlySpan<sbyte> q, int m, int n, int k)
    {
        var acc = new int[m * n];
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                int s = 0;
                for (int i = 0; i < k; i++) s += xq[r * k + i] * q[c * k + i];
                acc[r * n + c] = s;
            }
        return acc;
    }
}
