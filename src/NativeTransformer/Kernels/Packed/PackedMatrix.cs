using System.Runtime.CompilerServices;

namespace NativeTransformer.Kernels.Packed;

/// <summary>
/// A Linear weight W [N, K] (PyTorch [out, in]) repacked once at load into the fp32 micro-kernel's panel layout:
/// panels of <see cref="PanelWidth"/> = 32 output columns, each panel K-major (for every k, the 32 weights
/// W[p·32 .. p·32+31, k] are contiguous), panels back to back, the last one zero-padded to 32 columns.
/// The layout is the same for every SIMD path, so a matrix packed once serves whichever kernel runs.
/// Storage is a pinned managed array (pinned object heap), its first element aligned to 64 bytes — or, for a matrix read
/// back from a packed-weights cache file, 64-byte aligned panels inside a read-only memory mapping that
/// <see cref="Owner"/> keeps mapped (<see cref="Wrap"/>): the same bytes, so the same kernels give the same results.
/// </summary>
public sealed unsafe class PackedMatrix
{
    /// <summary>Output columns per panel.</summary>
    public const int PanelWidth = 32;

    private readonly float[]? _storage;  // pinned: never moves, so Data stays valid for the object's lifetime (null when mapped)
    internal readonly float* Data;       // 64-byte aligned start of panel 0

    /// <summary>What keeps a wrapped (mapped) matrix's memory valid; null for a matrix that owns its storage.</summary>
    public object? Owner { get; }

    private PackedMatrix(float* data, int n, int k, object owner)
    {
        N = n; K = k;
        Panels = (n + PanelWidth - 1) / PanelWidth;
        Data = data; Owner = owner;
    }

    /// <summary>Panel bytes (<see cref="FloatCount"/> floats) of an [n, k] matrix in this layout.</summary>
    public static long FloatCount(int n, int k) => (long)((n + PanelWidth - 1) / PanelWidth) * k * PanelWidth;

    /// <summary>A matrix over panels already in this layout at <paramref name="data"/> (64-byte aligned, <see cref="FloatCount"/>
    /// floats), e.g. inside a mapped cache file. <paramref name="owner"/> must keep that memory valid while the matrix is used.</summary>
    public static PackedMatrix Wrap(float* data, int n, int k, object owner)
    {
        if (n < 0 || k < 0) throw new ArgumentOutOfRangeException(n < 0 ? nameof(n) : nameof(k), "negative dimension");
        if (((nint)data & 63) != 0) throw new ArgumentException("PackedMatrix.Wrap: panels must start at a 64-byte boundary", nameof(data));
        ArgumentNullException.ThrowIfNull(owner);
        return new PackedMatrix(data, n, k, owner);
    }

    /// <summary>The panels as one span (padding included), e.g. to write them to a cache file.</summary>
    public ReadOnlySpan<float> PanelData => new(Data, checked((int)FloatCount(N, K)));

    /// <summary>Extra floats an owned matrix allocates so its panels can start at a 64-byte boundary.</summary>
    private const int AlignmentSlackFloats = 64 / sizeof(float);

    /// <summary>Bytes an owned (packed, not mapped) [n, k] matrix allocates: the panels plus the alignment slack.</summary>
    public static long StorageBytes(int n, int k) => (FloatCount(n, k) + AlignmentSlackFloats) * sizeof(float);

    private PackedMatrix(int n, int k)
    {
        N = n; K = k;
        Panels = (n + PanelWidth - 1) / PanelWidth;
        long len = FloatCount(n, k);
        if (len > Array.MaxLength - AlignmentSlackFloats) throw new ArgumentOutOfRangeException(nameof(n), $"PackedMatrix: {n}×{k} is too large");
        _storage = GC.AllocateUninitializedArray<float>((int)len + AlignmentSlackFloats, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref _storage[0]);
        Data = p + (int)((64 - ((nint)p & 63)) & 63) / sizeof(float);
    }

    /// <summary>Packs <paramref name="w"/> [<paramref name="n"/>, <paramref name="k"/>] row-major.</summary>
    public static PackedMatrix Pack(ReadOnlySpan<float> w, int n, int k)
    {
        if (n < 0 || k < 0) throw new ArgumentOutOfRangeException(n < 0 ? nameof(n) : nameof(k), "negative dimension");
        if (w.Length < (long)n * k) throw new ArgumentException($"PackedMatrix.Pack: w has {w.Length} values, {n}×{k} needs {(long)n * k}", nameof(w));
        var pm = new PackedMatrix(n, k);
        for (int p = 0; p < pm.Panels; p++)
        {
            float* dst = pm.Data + (long)p * k * PanelWidth;
            int cols = Math.Min(PanelWidth, n - p * PanelWidth);
            if (cols < PanelWidth) new Span<float>(dst, k * PanelWidth).Clear();
            for (int j = 0; j < cols; j++)
            {
                var row = w.Slice((p * PanelWidth + j) * k, k);
                for (int i = 0; i < k; i++) dst[(long)i * PanelWidth + j] = row[i];
            }
        }
        return pm;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    /// <summary>Number of 32-column panels.</summary>
    public int Panels { get; }

    /// <summary>Bytes held by the packed panels (padding included; for an owned matrix also the alignment slack of its array).</summary>
    public long Bytes => (_storage?.LongLength ?? FloatCount(N, K)) * sizeof(float);

    /// <summary>W[n, k] read back from the packed layout (tests, tools).</summary>
    public float this[int n, int k] => Data[(long)(n / PanelWidth) * K * PanelWidth + (long)k * PanelWidth + n % PanelWidth];

    /// <summary>Keeps the pinned storage reachable while raw pointers into it are in use.</summary>
    internal void KeepAlive() { GC.KeepAlive(_storage); GC.KeepAlive(Owner); }
}
