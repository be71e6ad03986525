using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NativeTransformer.Kernels.Int8;

/// <summary>
/// A Linear weight W [N, K] (PyTorch [out, in]) quantized per output channel, symmetric int8:
/// scale_n = max|W[n,:]| / 127, q = round-half-even(W / scale_n) clamped to [−127, 127] (an all-zero row gets
/// scale 0 and q = 0, so its dot products are exactly 0). Packed once into the layout every <see cref="QGemm"/>
/// path reads (see <see cref="QGemm"/> for the algebra):
/// <code>
///   panel p = columns [16p, 16p+16), K padded to K4 = roundUp(K, 4) with zero weights, N padded to 16 with zero rows
///   packed[p·16·K4 + g·64 + j·4 + b] = q[16p + j, 4g + b]      (g = k-group of 4, j = column in panel, b = 0..3)
/// </code>
/// i.e. for every group of 4 consecutive k, 16 columns × 4 bytes = 64 contiguous bytes: one vpdpbusd operand pair
/// (AVX-VNNI), or two 32-byte halves each sign-extended to 32 × s16 for vpmaddwd (AVX-512BW / AVX2).
/// Also holds colsum_n = Σ_k q[n, k] for the zero-point correction.
/// </summary>
public sealed class QuantizedMatrix
{
    internal const int Nr = 16;
    /// <summary>Largest K for which Σ_k u8·s8 cannot overflow int32 (255·128·65536 &lt; 2³¹).</summary>
    public const int MaxK = 65536;

    private readonly sbyte[] _packed;
    private readonly float[] _scales;   // [Npad], pad = 0
    private readonly int[] _colSums;    // [Npad], pad = 0
    private sbyte[]? _raw;              // row-major q [N, K], materialized on demand (tools/tests)

    public int N { get; }
    public int K { get; }
    /// <summary>K rounded up to a multiple of 4 (the packed depth).</summary>
    internal int K4 { get; }
    internal int Panels { get; }
    internal sbyte[] Packed => _packed;
    internal int[] ColSums => _colSums;
    internal float[] PaddedScales => _scales;

    /// <summary>Bytes held by the packed weights, scales and column sums.</summary>
    public long Bytes => _packed.LongLength + 4L * _scales.Length + 4L * _colSums.Length;

    /// <summary>Per-output-channel scales [N].</summary>
    public ReadOnlySpan<float> Scales => _scales.AsSpan(0, N);
    /// <summary>Per-output-channel Σ_k q[n, k] [N].</summary>
    public ReadOnlySpan<int> ColumnSums => _colSums.AsSpan(0, N);
    /// <summary>The quantized values q [N, K] row-major (unpacked on first access).</summary>
    public ReadOnlySpan<sbyte> Q => _raw ??= Unpack();

    /// <summary>Bytes an [n, k] matrix allocates (what <see cref="Bytes"/> reports once built): packed values with K
    /// rounded to 4 and N to whole panels, plus a scale and a column sum per padded column.</summary>
    public static long StorageBytes(int n, int k)
    {
        long npad = (long)(n + Nr - 1) / Nr * Nr;
        return npad * ((k + 3) & ~3) + npad * (sizeof(float) + sizeof(int));
    }

    private QuantizedMatrix(int n, int k)
    {
        N = n; K = k;
        K4 = (k + 3) & ~3;
        Panels = (n + Nr - 1) / Nr;
        _packed = GC.AllocateUninitializedArray<sbyte>(checked(Panels * Nr * K4), pinned: true);
        _packed.AsSpan().Clear();
        _scales = new float[Panels * Nr];
        _colSums = new int[Panels * Nr];
    }

    private static void CheckShape(long length, int n, int k, string what)
    {
        if (n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(n), "negative dimension");
        if (k > MaxK) throw new ArgumentOutOfRangeException(nameof(k), $"K={k} exceeds {MaxK} (int32 accumulator bound)");
        if (length != (long)n * k) throw new ArgumentException($"{what}: expected {(long)n * k} values for [{n}, {k}], got {length}");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static QuantizedMatrix Quantize(ReadOnlySpan<float> w, int n, int k)
    {
        CheckShape(w.Length, n, k, nameof(w));
        var m = new QuantizedMatrix(n, k);
        var row = new sbyte[k];
        for (int r = 0; r < n; r++)
        {
            var src = w.Slice(r * k, k);
            float absMax = 0;
            foreach (float v in src) absMax = MathF.Max(absMax, MathF.Abs(v));
            if (!float.IsFinite(absMax)) throw new ArgumentException($"weight row {r} contains NaN or infinity", nameof(w));
            float scale = absMax / 127f;
            if (scale == 0) { Array.Clear(row); m._scales[r] = 0; }
            else
            {
                for (int i = 0; i < k; i++)
                    row[i] = (sbyte)Math.Clamp(MathF.Round(src[i] / scale, MidpointRounding.ToEven), -127f, 127f);
                m._scales[r] = scale;
            }
            m.PackRow(r, row);
        }
        return m;
    }

    /// <summary>From already quantized values (e.g. an int8 checkpoint): q [N, K] (any value in [−128, 127]), one scale per row.</summary>
    public static QuantizedMatrix FromInt8(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int n, int k)
    {
        var m = Zeros(n, k);
        m.SetRows(0, q, scales);
        return m;
    }

    /// <summary>An all-zero [N, K] matrix to fill with <see cref="SetRows"/> (stacking row blocks, e.g. query/key/value, packed once).</summary>
    internal static QuantizedMatrix Zeros(int n, int k)
    {
        CheckShape((long)n * k, n, k, nameof(n));
        return new QuantizedMatrix(n, k);
    }

    /// <summary>Packs rows [first, first + scales.Length) from q [rows, K] and their scales. Scales are per row, so stacking
    /// blocks this way equals quantizing the stacked fp32 rows. Only while building, before the matrix is used.</summary>
    internal void SetRows(int first, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales)
    {
        int rows = scales.Length;
        if (first < 0 || first + rows > N) throw new ArgumentOutOfRangeException(nameof(first), $"rows {first}..{first + rows} outside [0, {N})");
        if (q.Length != (long)rows * K) throw new ArgumentException($"q: expected {(long)rows * K} values for [{rows}, {K}], got {q.Length}", nameof(q));
        for (int r = 0; r < rows; r++)
        {
            if (!float.IsFinite(scales[r])) throw new ArgumentException($"scale {r} is not finite", nameof(scales));
            _scales[first + r] = scales[r];
            PackRow(first + r, q.Slice(r * K, K));
        }
    }

    private void ReadRow(int r, Span<sbyte> row)
    {
        int p = r / Nr, j = r % Nr;
        for (int i = 0; i < K; i++) row[i] = _packed[p * Nr * K4 + (i >> 2) * 64 + j * 4 + (i & 3)];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per weight row at load: tier-0 code made loading slow
    private void PackRow(int r, ReadOnlySpan<sbyte> q)
    {
        int p = r / Nr, j = r % Nr, sum = 0;
        var panel = _packed.AsSpan(p * Nr * K4, Nr * K4);
        for (int i = 0; i < q.Length; i++)
        {
            panel[(i >> 2) * 64 + j * 4 + (i & 3)] = q[i];
            sum += q[i];
        }
        _colSums[r] = sum;
    }

    private sbyte[] Unpack()
    {
        var raw = new sbyte[N * K];
        for (int r = 0; r < N; r++) ReadRow(r, raw.AsSpan(r * K, K));
        return raw;
    }

    /// <summary>W ≈ q · scale, as fp32 [N, K] (tests and weight tools).</summary>
    public float[] Dequantize()
    {
        var q = Q;
        var w = new float[N * K];
        for (int r = 0; r < N; r++)
            for (int i = 0; i < K; i++) w[r * K + i] = q[r * K + i] * _scales[r];
        return w;
    }
}

/// <summary>
/// Per-call buffers of the int8 GEMM, sized once for up to <c>maxRows</c> × <c>maxK</c> and reused (no allocation per call):
/// activations quantized per row to u8 (depth padded to a multiple of 4), the same values widened to s16 for the vpmaddwd paths,
/// and each row's scale and zero point. One scratch per concurrent caller.
/// </summary>
public sealed unsafe class QGemmScratch
{
    public int MaxRows { get; }
    public int MaxK { get; }
    internal readonly int MaxK4;
    internal readonly byte* Xq;       // [maxRows, K4] u8
    internal readonly short* Xw;      // [maxRows, K4] s16 (same values)
    internal readonly float* RowScale;
    internal readonly int* RowZp;
    private readonly byte[] _xq;
    private readonly short[] _xw;
    private readonly float[] _scale;
    private readonly int[] _zp;

    public QGemmScratch(int maxRows, int maxK)
    {
        if (maxRows < 0 || maxK < 0) throw new ArgumentOutOfRangeException(nameof(maxRows), "negative size");
        MaxRows = maxRows; MaxK = maxK;
        MaxK4 = (maxK + 3) & ~3;
        long cells = checked((long)maxRows * MaxK4);
        _xq = GC.AllocateArray<byte>(checked((int)cells + 64), pinned: true);
        _xw = GC.AllocateArray<short>(checked((int)cells + 64), pinned: true);
        _scale = GC.AllocateArray<float>(maxRows + 1, pinned: true);
        _zp = GC.AllocateArray<int>(maxRows + 1, pinned: true);
        Xq = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_xq));
        Xw = (short*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_xw));
        RowScale = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scale));
        RowZp = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_zp));
    }

    /// <summary>Row scales of the last call (tests).</summary>
    internal ReadOnlySpan<float> Scales(int rows) => _scale.AsSpan(0, rows);
    internal ReadOnlySpan<int> ZeroPoints(int rows) => _zp.AsSpan(0, rows);
}
