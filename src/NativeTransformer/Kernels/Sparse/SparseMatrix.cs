using System.Runtime.CompilerServices;

namespace NativeTransformer.Kernels.Sparse;

/// <summary>
/// A Linear weight W [N, K] (PyTorch [out, in]) with most entries zero, stored once at load as "sliced ELL":
/// output rows are grouped in slices of <see cref="SliceWidth"/> = 16; a slice stores <c>Steps</c> steps, each step
/// one (value, column) pair per output row of the slice, lane o of step j being the j-th nonzero of output row
/// s·16 + o in increasing column order. Rows with fewer nonzeros than the slice's longest are padded at the end with
/// (0, column 0), and the missing rows of a ragged last slice are all padding.
///
/// Why this layout: a step is 16 contiguous values and 16 contiguous columns, so both kernels read the weights
/// sequentially — the row-tile kernel broadcasts each value against 16 rows of xᵀ held contiguously
/// (one broadcast-FMA per nonzero), the few-rows kernel loads 16 values and gathers 16 x entries per step. Every output
/// element is the same FMA chain over its slice's steps in order (padding included, which adds +0·x[0]), whichever
/// kernel, ISA path or thread split computes it.
/// </summary>
public sealed unsafe class SparseMatrix
{
    /// <summary>Output rows per slice (one Vector512 of values or columns per step).</summary>
    public const int SliceWidth = 16;

    private readonly float[] _values;   // pinned
    private readonly int[] _columns;    // pinned
    private readonly int[] _sliceStart; // first step of slice s; _sliceStart[Slices] = total steps
    internal readonly float* Values;
    internal readonly int* Columns;

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }
    /// <summary>Input features (columns of W).</summary>
    public int K { get; }
    /// <summary>Nonzero weights (padding excluded).</summary>
    public long NonZeros { get; }
    /// <summary>Number of 16-row slices.</summary>
    public int Slices => _sliceStart.Length - 1;
    /// <summary>Stored steps over all slices (each 16 value/column pairs); Steps·16 ≥ NonZeros, the rest is padding.</summary>
    public int Steps => _sliceStart[^1];
    /// <summary>Fraction of W that is zero.</summary>
    public double Sparsity => N == 0 || K == 0 ? 1 : 1 - (double)NonZeros / ((long)N * K);
    /// <summary>Bytes held by the values and columns (padding included).</summary>
    public long Bytes => (long)_values.Length * sizeof(float) + (long)_columns.Length * sizeof(int) + _sliceStart.Length * sizeof(int);

    /// <summary>First step of slice <paramref name="s"/> and its step count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal (int Start, int Count) Slice(int s) => (_sliceStart[s], _sliceStart[s + 1] - _sliceStart[s]);

    private SparseMatrix(int n, int k, long nonZeros, int[] sliceStart)
    {
        N = n; K = k; NonZeros = nonZeros; _sliceStart = sliceStart;
        int steps = sliceStart[^1];
        _values = GC.AllocateArray<float>(Math.Max(1, steps * SliceWidth), pinned: true);
        _columns = GC.AllocateArray<int>(Math.Max(1, steps * SliceWidth), pinned: true);
        Values = (float*)Unsafe.AsPointer(ref _values[0]);
        Columns = (int*)Unsafe.AsPointer(ref _columns[0]);
    }

    /// <summary>Zero entries of <paramref name="w"/> [<paramref name="n"/>, <paramref name="k"/>] row-major (±0 both count).</summary>
    public static long CountZeros(ReadOnlySpan<float> w, int n, int k)
    {
        long zeros = 0;
        var all = w[..checked(n * k)];
        for (int i = 0; i < all.Length; i++) if (all[i] == 0f) zeros++;
        return zeros;
    }

    /// <summary>Builds the sliced-ELL copy of <paramref name="w"/> [<paramref name="n"/>, <paramref name="k"/>] row-major.</summary>
    public static SparseMatrix FromDense(ReadOnlySpan<float> w, int n, int k)
    {
        if (n < 0 || k < 0) throw new ArgumentOutOfRangeException(n < 0 ? nameof(n) : nameof(k), "negative dimension");
        if (w.Length < (long)n * k) throw new ArgumentException($"SparseMatrix.FromDense: w has {w.Length} values, {n}×{k} needs {(long)n * k}", nameof(w));
        int slices = (n + SliceWidth - 1) / SliceWidth;
        var rowNonZeros = new int[n];
        long nonZeros = 0;
        for (int r = 0; r < n; r++)
        {
            var row = w.Slice(r * k, k);
            int c = 0;
            for (int i = 0; i < k; i++) if (row[i] != 0f) c++;
            rowNonZeros[r] = c; nonZeros += c;
        }
        var sliceStart = new int[slices + 1];
        for (int s = 0; s < slices; s++)
        {
            int longest = 0;
            for (int r = s * SliceWidth; r < Math.Min(n, (s + 1) * SliceWidth); r++) longest = Math.Max(longest, rowNonZeros[r]);
            sliceStart[s + 1] = checked(sliceStart[s] + longest);
        }
        if ((long)sliceStart[slices] * SliceWidth > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(n), $"SparseMatrix: {n}×{k} is too large");
        var m = new SparseMatrix(n, k, nonZeros, sliceStart);
        for (int r = 0; r < n; r++)
        {
            int s = r / SliceWidth, lane = r % SliceWidth;
            long at = (long)sliceStart[s] * SliceWidth + lane;
            var row = w.Slice(r * k, k);
            for (int i = 0; i < k; i++)
                if (row[i] != 0f) { m.Values[at] = row[i]; m.Columns[at] = i; at += SliceWidth; }
            // Padding stays (0, column 0): arrays are zero-initialized.
        }
        return m;
    }

    /// <summary>W[n, k] read back (tests, tools).</summary>
    public float this[int n, int k]
    {
        get
        {
            var (start, count) = Slice(n / SliceWidth);
            for (long j = 0, at = (long)start * SliceWidth + n % SliceWidth; j < count; j++, at += SliceWidth)
                if (Columns[at] == k && Values[at] != 0f) return Values[at];
            return 0f;
        }
    }

    /// <summary>Keeps the pinned storage reachable while raw pointers into it are in use.</summary>
    internal void KeepAlive() { GC.KeepAlive(_values); GC.KeepAlive(_columns); }
}
