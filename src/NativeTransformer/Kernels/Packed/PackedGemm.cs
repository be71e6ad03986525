using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NativeTransformer.Kernels.Packed;

/// <summary>The SIMD flavours of the packed GEMM; one is chosen per machine, all are testable where supported.</summary>
internal enum KernelPath { Scalar, Vector128, Vector256, Vector512 }

/// <summary>
/// fp32 GEMM over packed weights: y = act(x·Wᵀ + bias) + residual.
///
/// Blocking (per thread, over its rows [r0, r1) × panels [p0, p1)):
///   for each chunk of rows (≈ 192 KB of x, whole micro-blocks): pack each MR-row micro-block k-major (a[k·rows + i])
///     for each block of NC panels (≈ 512 KB of weights: stays in L2 while the chunk's micro-blocks run over it)
///       for each micro-block of MR rows
///         for each panel (or pair of panels)  → micro-kernel over the whole K: MR × 32 (or MR × 64) accumulators in
///                                               registers, one broadcast of x and 32/lanes weight loads per k
///         epilogue on the finished rows × block (bias, activation, residual)
/// No K blocking: each output is written once, by the kernel, then finished by the epilogue while still in cache.
/// Each y[m, n] is one FMA chain over
/// k = 0..K−1 in increasing order, then + bias[n], then the activation, then + residual — whatever the ISA path, the
/// micro-kernel shape, the thread split or the other rows in the batch. The epilogue runs on fixed 64-column segments
/// ([g·64, g·64+64) ∩ [0, N)), so even a vectorized activation sees the same segments whatever the split.
/// </summary>
public static unsafe class PackedGemm
{
    private const int NR = PackedMatrix.PanelWidth;
    /// <summary>Panels per epilogue segment and per unit of the column split.</summary>
    internal const int GroupPanels = 2;
    /// <summary>Target bytes of one block of weight panels (kept in L2 while a row chunk runs over it).</summary>
    internal static int BlockBytes = 512 * 1024;
    /// <summary>Target bytes of one chunk of packed x rows.</summary>
    internal static int ChunkBytes = 192 * 1024;
    /// <summary>Largest micro-kernel row count of any path.</summary>
    internal const int MaxRows = 16;

    internal static readonly KernelPath Best = Detect();

    private static KernelPath Detect()
    {
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) return KernelPath.Vector512;
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported) return KernelPath.Vector256;
        if (Vector128.IsHardwareAccelerated && (Fma.IsSupported || AdvSimd.Arm64.IsSupported)) return KernelPath.Vector128;
        return KernelPath.Scalar;
    }

    /// <summary>Which SIMD path runs on this machine: "avx512", "avx2", "vector128" or "scalar".</summary>
    public static string Isa => Best switch
    {
        KernelPath.Vector512 => "avx512",
        KernelPath.Vector256 => "avx2",
        KernelPath.Vector128 => "vector128",
        _ => "scalar",
    };

    /// <summary>Whether <paramref name="path"/> can run (with hardware FMA) on this machine.</summary>
    internal static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        KernelPath.Vector256 => Vector256.IsHardwareAccelerated && (Fma.IsSupported || AdvSimd.Arm64.IsSupported),
        KernelPath.Vector128 => Vector128.IsHardwareAccelerated && (Fma.IsSupported || AdvSimd.Arm64.IsSupported),
        _ => true,
    };

    /// <summary>32 vector registers (AVX-512 or Arm64) or 16 (AVX2/SSE)?</summary>
    private static readonly bool ManyRegisters = Avx512F.VL.IsSupported || AdvSimd.Arm64.IsSupported;

    /// <summary>Rows of the Vector512 micro-kernel (12 × 32 = 24 accumulators; the generated kernels go up to 14).</summary>
    internal static int Vector512Rows = 12;

    /// <summary>Micro-kernel rows for one panel, and the largest row count that takes two panels at once (0 = never).
    /// With 16 registers, Vector256 runs half-panel kernels (6 rows × 16 columns, each panel in two halves): a
    /// full-panel tile needs 4 weight vectors + accumulators + a broadcast, which spills at 3 rows (measured on Zen 4,
    /// M = 128: 45 GFLOP/s full-panel 3 × 32 against ~100 with the half panels; docs/performance.md "Kernels and int8").</summary>
    internal static (int Rows, int RowsTwoPanels) Shape(KernelPath path, bool manyRegisters) => path switch
    {
        KernelPath.Vector512 => (Vector512Rows, 6),
        KernelPath.Vector256 => manyRegisters ? (6, 3) : (6, 0),
        KernelPath.Vector128 => manyRegisters ? (3, 1) : (1, 0),
        _ => (4, 0),
    };

    /// <summary>
    /// y[m, n] = act(Σₖ x[m, k]·W[n, k] + bias[n]) + residual[m, n]. x is [M, K] row-major, y and residual [M, N];
    /// bias and residual may be null. Work is split over <paramref name="pool"/> (null = single thread); each element
    /// is computed by the same operation sequence whatever the split, so results are bitwise identical for any thread count.
    /// </summary>
    public static void Compute(float* x, int m, PackedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, WorkerPool? pool)
        => ComputeWith(Best, x, m, w, bias, residual, y, epilogue, pool);

    /// <summary><see cref="Compute"/> on a chosen path (tests force every fallback). <paramref name="manyRegisters"/>
    /// overrides the register count the kernel shapes assume (tests run the 16-register shapes on AVX-512 machines).</summary>
    internal static void ComputeWith(KernelPath path, float* x, int m, PackedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue, WorkerPool? pool,
        bool? manyRegisters = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (!IsSupported(path)) throw new PlatformNotSupportedException($"PackedGemm: {path} is not supported here");
        if (m == 0 || w.N == 0) return;
        if (x == null && w.K > 0 || y == null) throw new ArgumentNullException(y == null ? nameof(y) : nameof(x));

        var job = t_job ??= new Job();
        job.Set(path, manyRegisters ?? ManyRegisters, x, m, w, bias, residual, y, epilogue);
        int rowBlocks = job.Blocks, groups = (w.Panels + GroupPanels - 1) / GroupPanels;
        int threads = pool?.Threads ?? 1;
        double flops = 2.0 * m * w.N * w.K;
        if (threads > 1 && flops >= 1 << 20)
        {
            // Rows when there are enough row blocks for every thread, else column groups.
            job.ByRows = rowBlocks >= 2 * threads || rowBlocks >= groups;
            try { pool!.For(job.ByRows ? rowBlocks : groups, job); }
            finally { job.Clear(); }
        }
        else
        {
            job.ByRows = true;
            try { job.Execute(0, rowBlocks, 0); }
            finally { job.Clear(); }
        }
        w.KeepAlive();
    }

    [ThreadStatic] private static Job? t_job;
    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float* t_packAPtr;

    /// <summary>This thread's 64-byte aligned buffer of at least <paramref name="floats"/> for packed x rows (grows, never shrinks).</summary>
    private static float* PackBuffer(int floats)
    {
        if (t_packA == null || t_packA.Length < floats + 16)
        {
            t_packA = GC.AllocateUninitializedArray<float>(Math.Max(floats, MaxRows * 256) + 16, pinned: true);
            float* p = (float*)Unsafe.AsPointer(ref t_packA[0]);
            t_packAPtr = p + (int)((64 - ((nint)p & 63)) & 63) / sizeof(float);
        }
        return t_packAPtr;
    }

    /// <summary>One GEMM call's arguments; cached per calling thread so calls do not allocate.</summary>
    private sealed class Job : IParallelWork
    {
        private KernelPath _path;
        private bool _halfPanels;
        private float* _x, _bias, _residual, _y;
        private int _m;
        private PackedMatrix? _w;
        private Epilogue _epilogue;
        public int Mr, Mr2;
        /// <summary>Micro-blocks of rows: ⌈M / Mr⌉, Mr rows each but the last. (Balanced blocks — 7 × 12 + 4 × 11 rows
        /// for M = 128 instead of 10 × 12 + 8 — were tried and measured no faster: the 11-row kernel cost per row about
        /// what the 8-row tail did, docs/performance.md.)</summary>
        public int Blocks;
        public bool ByRows;

        /// <summary>First row of micro-block <paramref name="block"/> (Blocks = M).</summary>
        private int RowStart(int block) => Math.Min(block * Mr, _m);

        public void Set(KernelPath path, bool manyRegisters, float* x, int m, PackedMatrix w, float* bias, float* residual, float* y, Epilogue epilogue)
        {
            _path = path; _x = x; _m = m; _w = w; _bias = bias; _residual = residual; _y = y; _epilogue = epilogue;
            _halfPanels = path == KernelPath.Vector256 && !manyRegisters;
            (Mr, Mr2) = Shape(path, manyRegisters);
            Blocks = (m + Mr - 1) / Mr;
        }

        public void Clear() { _w = null; _x = _bias = _residual = _y = null; }

        public void Execute(int start, int end, int worker)
        {
            var w = _w!;
            if (ByRows) Run(start, end, 0, w.Panels);
            else Run(0, Blocks, start * GroupPanels, Math.Min(end * GroupPanels, w.Panels));
        }

        private void Run(int b0, int b1, int p0, int p1)
        {
            var w = _w!;
            int n = w.N, k = w.K, mr = Mr;
            // Row chunk: its packed x (≈ ChunkBytes) is reused for every panel; weight block: NC panels (≈ BlockBytes,
            // an even count so epilogue segments stay whole) reused for every micro-block of the chunk.
            int chunkBlocks = Math.Clamp(ChunkBytes / (sizeof(float) * Math.Max(k, 1) * mr), 1, 64);
            int nc = Math.Max(GroupPanels, BlockBytes / (sizeof(float) * NR * Math.Max(k, 1)) / GroupPanels * GroupPanels);
            float* a = PackBuffer(chunkBlocks * mr * k);
            float* tmp = stackalloc float[MaxRows * NR];
            nint panelStride = (nint)k * NR;
            for (int cb = b0; cb < b1; cb += chunkBlocks)
            {
                int cbEnd = Math.Min(b1, cb + chunkBlocks), ic = RowStart(cb);
                for (int bi = cb; bi < cbEnd; bi++)
                {
                    int r = RowStart(bi);
                    PackRows(_x + (long)r * k, k, RowStart(bi + 1) - r, a + (long)(r - ic) * k);
                }
                for (int q0 = p0; q0 < p1; q0 += nc)
                {
                    int q1 = Math.Min(q0 + nc, p1);
                    for (int bi = cb; bi < cbEnd; bi++)
                    {
                        int r = RowStart(bi), rows = RowStart(bi + 1) - r;
                        float* ar = a + (long)(r - ic) * k;
                        for (int p = q0; p < q1;)
                        {
                            float* b = w.Data + p * panelStride;
                            float* c = _y + (long)r * n + p * NR;
                            if (rows <= Mr2 && p + 2 <= q1 && (p + 2) * NR <= n)
                            {
                                Kernel(rows, 2, ar, b, panelStride, k, c, n);
                                p += 2;
                                continue;
                            }
                            int cols = Math.Min(NR, n - p * NR);
                            if (cols == NR) Kernel(rows, 1, ar, b, panelStride, k, c, n);
                            else
                            {
                                // Ragged last panel: the full-width kernel on a scratch tile, then the valid columns.
                                Kernel(rows, 1, ar, b, panelStride, k, tmp, NR);
                                for (int i = 0; i < rows; i++)
                                    new ReadOnlySpan<float>(tmp + i * NR, cols).CopyTo(new Span<float>(c + (long)i * n, cols));
                            }
                            p++;
                        }
                        Finish(r, rows, q0, q1);
                    }
                }
            }
        }

        /// <summary>x[r.., :] (rows × k, row stride k) → a[p·rows + i], k-major.</summary>
        private static void PackRows(float* x, int k, int rows, float* a)
        {
            // 4 × 4 blocks transposed in registers (4 loads, 8 shuffles, 4 stores per 16 floats) where the shape allows;
            // the scalar loop was ~4 cycles per float, ~6 % of a MiniLM forward. Pure data movement: same packed bytes.
            int done = 0;
            if (Sse.IsSupported && k % 4 == 0)
            {
                for (; done + 4 <= rows; done += 4)
                {
                    float* r0 = x + (long)done * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
                    for (int p = 0; p < k; p += 4)
                    {
                        Vector128<float> x0 = Sse.LoadVector128(r0 + p), x1 = Sse.LoadVector128(r1 + p);
                        Vector128<float> x2 = Sse.LoadVector128(r2 + p), x3 = Sse.LoadVector128(r3 + p);
                        Vector128<float> t0 = Sse.UnpackLow(x0, x1), t1 = Sse.UnpackLow(x2, x3);
                        Vector128<float> t2 = Sse.UnpackHigh(x0, x1), t3 = Sse.UnpackHigh(x2, x3);
                        float* d = a + (nint)p * rows + done;
                        Sse.Store(d, Sse.MoveLowToHigh(t0, t1));
                        Sse.Store(d + rows, Sse.MoveHighToLow(t1, t0));
                        Sse.Store(d + 2 * rows, Sse.MoveLowToHigh(t2, t3));
                        Sse.Store(d + 3 * rows, Sse.MoveHighToLow(t3, t2));
                    }
                }
                // A remaining pair (the AVX2 path's 6-row blocks are 4 + 2 rows): 2 × 4 blocks, one 8-byte store per k.
                // In the scalar loop those two rows were a third of the floats and most of the packing time.
                if (done + 2 <= rows)
                {
                    float* r0 = x + (long)done * k, r1 = r0 + k;
                    for (int p = 0; p < k; p += 4)
                    {
                        Vector128<float> x0 = Sse.LoadVector128(r0 + p), x1 = Sse.LoadVector128(r1 + p);
                        Vector128<float> lo = Sse.UnpackLow(x0, x1), hi = Sse.UnpackHigh(x0, x1);
                        float* d = a + (nint)p * rows + done;
                        Sse.StoreLow(d, lo); Sse.StoreHigh(d + rows, lo);
                        Sse.StoreLow(d + 2 * rows, hi); Sse.StoreHigh(d + 3 * rows, hi);
                    }
                    done += 2;
                }
            }
            for (int i = done; i < rows; i++)
            {
                float* src = x + (long)i * k;
                float* dst = a + i;
                for (int p = 0; p < k; p++) dst[(nint)p * rows] = src[p];
            }
        }

        private void Kernel(int rows, int panels, float* a, float* b, nint bs, nint k, float* c, nint ldc)
        {
            if (_halfPanels)
            {
                for (int q = 0; q < panels; q++)
                {
                    PackedKernels.V256H(rows, a, b + q * bs, k, c + q * NR, ldc);
                    PackedKernels.V256H(rows, a, b + q * bs + NR / 2, k, c + q * NR + NR / 2, ldc);
                }
                return;
            }
            switch (_path)
            {
                case KernelPath.Vector512: PackedKernels.V512(rows, panels, a, b, bs, k, c, ldc, false); break;
                case KernelPath.Vector256: PackedKernels.V256(rows, panels, a, b, bs, k, c, ldc, false); break;
                case KernelPath.Vector128: PackedKernels.V128(rows, panels, a, b, bs, k, c, ldc, false); break;
                default: PackedKernels.Scalar(rows, panels, a, b, bs, k, c, ldc, false); break;
            }
        }

        /// <summary>Epilogue on rows [r, r+rows) × panels [q0, q1): + bias, activation, + residual, per fixed 64-column segment.</summary>
        private void Finish(int r, int rows, int q0, int q1)
        {
            if (_bias == null && _residual == null && _epilogue == Epilogue.None) return;
            int n = _w!.N;
            for (int g = q0; g < q1; g += GroupPanels)
            {
                int c0 = g * NR, len = Math.Min(GroupPanels * NR, n - c0);
                for (int i = 0; i < rows; i++)
                {
                    long off = (long)(r + i) * n + c0;
                    Activations.FinishSegment(_y + off, _bias == null ? null : _bias + c0, _residual == null ? null : _residual + off, len, _epilogue);
                }
            }
        }
    }
}

internal static unsafe partial class PackedKernels
{
    /// <summary>Portable path: the same per-element FMA chain as the SIMD kernels, one scalar at a time.</summary>
    internal static void Scalar(int rows, int panels, float* a, float* b, nint bs, nint kc, float* c, nint ldc, bool load)
    {
        for (int q = 0; q < panels; q++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < 32; j++)
                {
                    float* cij = c + i * ldc + q * 32 + j;
                    float s = load ? *cij : 0f;
                    float* bp = b + q * bs + j;
                    for (nint p = 0; p < kc; p++) s = MathF.FusedMultiplyAdd(a[p * rows + i], bp[p * 32], s);
                    *cij = s;
                }
    }
}
