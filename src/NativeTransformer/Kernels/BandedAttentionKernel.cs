using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeTransformer.Kernels;

/// <summary>
/// Sliding-window attention with global tokens (Beltagy et al., "Longformer", 2020) for one head of one sequence of
/// <c>length</c> tokens, over the query rows [rowStart, rowEnd):
/// <code>
///   local row i (not global):  keys { j : |i − j| ≤ w, j &lt; length, j not global } ∪ { every global j },
///                              softmax(q_i·k_jᵀ·scale)·v over them           (q, k, v: the local projections)
///   global row i:              keys { j &lt; length }, softmax(qg_i·kg_jᵀ·scale)·vg  (the global projections)
///   row i ≥ length:            0
/// </code>
/// Cost is linear in the length: query rows go in blocks of <see cref="Block"/>; a block gathers the keys its rows can
/// see (the band [first − w, last + w] without the global tokens, then the global tokens) into kᵀ [d, C] and V [C, d],
/// scores [Block, C] with <see cref="AttentionKernel"/>'s tiles, and zeroes each row's probabilities outside its own
/// band. No [S, S] buffer exists. A row's result depends only on its own sequence: every dot product runs in the same
/// order, the softmax walks its row's entries in column order, and columns outside a row's band carry probability
/// exactly 0 (adding 0·v leaves the sum unchanged). Global rows run <see cref="AttentionKernel.SingleHead(float*, float*, float*, int, int, int, int, int, float, float*, int, Span{float})"/>
/// with the global projections.
/// </summary>
public static unsafe class BandedAttentionKernel
{
    /// <summary>Query rows scored together (a multiple of the 4-row tiles).</summary>
    public const int Block = 32;

    /// <summary>Floats of scratch needed for sequences up to <paramref name="maxLength"/> with one-sided window
    /// <paramref name="w"/>: kᵀ, V, the scores and the band positions for a block (at most 2w + Block band keys and
    /// <paramref name="maxLength"/> global ones), or one global row's full attention, whichever is larger.</summary>
    public static int ScratchLength(int maxLength, int w, int d)
    {
        long columns = Math.Min(2L * w + Block, maxLength) + (long)maxLength;
        long block = columns * (2L * d + Block + 1);
        long global = AttentionKernel.ScratchLength(1, maxLength, d);
        long need = Math.Max(block, global);
        return need <= Array.MaxLength ? (int)need : throw new ArgumentOutOfRangeException(nameof(maxLength), "banded attention scratch too large");
    }

    /// <summary>
    /// Context rows [rowStart, rowEnd) into <paramref name="output"/> (row i at output + i·outStride). q, k, v and the
    /// global qg, kg, vg are [length, d] views with row stride <paramref name="stride"/>; the global ones may be null when
    /// <paramref name="globals"/> (ascending token positions &lt; length) is empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* q, float* k, float* v, float* qg, float* kg, float* vg, int stride, int length, int w,
        ReadOnlySpan<int> globals, int d, float scale, int rowStart, int rowEnd, float* output, int outStride, Span<float> scratch)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), "attention needs at least one token");
        if (w < 0) throw new ArgumentOutOfRangeException(nameof(w));
        if (globals.Length > 0 && (qg == null || kg == null || vg == null)) throw new ArgumentException("global tokens need the global projections");
        int g = globals.Length;
        int blockColumns = Math.Min(2 * w + Block, length) + g;
        if (scratch.Length < (long)blockColumns * (2 * d + Block + 1) || (g > 0 && scratch.Length < AttentionKernel.ScratchLength(1, length, d)))
            throw new ArgumentException("banded attention scratch too small");
        fixed (float* s = scratch)
        {
            for (int r0 = rowStart; r0 < rowEnd; r0 = NextBlock(r0, rowEnd))
            {
                int r1 = NextBlock(r0, rowEnd);
                if (r0 >= length) { ZeroRows(output, outStride, r0, r1, d); continue; }
                int live = Math.Min(r1, length);
                LocalBlock(q, k, v, stride, length, w, globals, d, scale, r0, live, output, outStride, s, blockColumns);
                if (live < r1) ZeroRows(output, outStride, live, r1, d);
            }
            // Global rows replace what the local pass wrote for them.
            foreach (int i in globals)
                if (i >= rowStart && i < rowEnd)
                    AttentionKernel.SingleHead(qg + (long)i * stride, kg, vg, stride, stride, 1, length, d, scale,
                        output + (long)i * outStride, outStride, scratch);
        }
    }

    /// <summary>Blocks start at multiples of <see cref="Block"/>, so a row's block never depends on where the caller split the rows.</summary>
    private static int NextBlock(int r, int end) => Math.Min(end, (r / Block + 1) * Block);

    private static void ZeroRows(float* output, int outStride, int from, int to, int d)
    {
        for (int i = from; i < to; i++) new Span<float>(output + (long)i * outStride, d).Clear();
    }

    /// <summary>Local attention for rows [r0, r1) (all &lt; length): gather, score, band softmax, context.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LocalBlock(float* q, float* k, float* v, int stride, int length, int w, ReadOnlySpan<int> globals,
        int d, float scale, int r0, int r1, float* output, int outStride, float* s, int maxColumns)
    {
        int lo = Math.Max(0, r0 - w), hi = Math.Min(length, r1 - 1 + w + 1);
        float* kt = s, vs = kt + (long)d * maxColumns, scores = vs + (long)maxColumns * d;
        int* position = (int*)(scores + (long)Block * maxColumns);
        // Band keys that are not global, in position order; then the global keys.
        int m = 0, next = 0;
        while (next < globals.Length && globals[next] < lo) next++;
        for (int j = lo; j < hi; j++)
        {
            if (next < globals.Length && globals[next] == j) { next++; continue; }
            position[m++] = j;
        }
        int columns = m + globals.Length;
        for (int c = 0; c < columns; c++)
        {
            int j = c < m ? position[c] : globals[c - m];
            float* kr = k + (long)j * stride, vr = v + (long)j * stride;
            for (int t = 0; t < d; t++) kt[(long)t * columns + c] = kr[t];
            new ReadOnlySpan<float>(vr, d).CopyTo(new Span<float>(vs + (long)c * d, d));
        }
        int rows = r1 - r0;
        AttentionKernel.Scores(q + (long)r0 * stride, stride, kt, rows, columns, d, scores);
        int a = 0, b = 0, gi = 0;
        for (int r = 0; r < rows; r++)
        {
            int i = r0 + r;
            while (a < m && position[a] < i - w) a++;
            while (b < m && position[b] <= i + w) b++;
            while (gi < globals.Length && globals[gi] < i) gi++;
            float* row = scores + (long)r * columns;
            bool isGlobal = gi < globals.Length && globals[gi] == i;
            if (isGlobal) new Span<float>(row, columns).Clear(); // its output is replaced by the global pass
            else BandSoftmax(row, a, b, m, columns, scale);
        }
        AttentionKernel.Context(scores, rows, columns, vs, d, d, output + (long)r0 * outStride, outStride);
    }

    /// <summary>softmax(scale · row) over [a, b) ∪ [m, columns) in place; every other entry 0. The row is never empty:
    /// a local row's own position is in its band.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BandSoftmax(float* row, int a, int b, int m, int columns, float scale)
    {
        float max = Math.Max(Max(row + a, b - a), Max(row + m, columns - m));
        float sum = Exp(row + a, b - a, max, scale) + Exp(row + m, columns - m, max, scale);
        float inv = 1f / sum;
        new Span<float>(row, a).Clear();
        for (int c = a; c < b; c++) row[c] *= inv;
        new Span<float>(row + b, m - b).Clear();
        for (int c = m; c < columns; c++) row[c] *= inv;
    }

    private static float Max(float* x, int n)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < n; i++) max = Math.Max(max, x[i]);
        return max;
    }

    /// <summary>x ← exp(scale·(x − max)) over n entries; returns their sum (8 lanes from the range start, then in order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Exp(float* x, int n, float max, float scale)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var vmax = Vector256.Create(max); var vscale = Vector256.Create(scale); var vsum = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var e = VectorMath.ExpNonPositive((Vector256.Load(x + i) - vmax) * vscale);
                vsum += e;
                e.Store(x + i);
            }
            sum = Vector256.Sum(vsum);
        }
        for (; i < n; i++) { float e = MathF.Exp((x[i] - max) * scale); x[i] = e; sum += e; }
        return sum;
    }
}

/// <summary>The plain scalar oracle for <see cref="BandedAttentionKernel"/>, in double precision, straight from the definition.</summary>
public static unsafe class BandedAttentionReference
{
    public static void Run(float* q, float* k, float* v, float* qg, float* kg, float* vg, int stride, int length, int w,
        ReadOnlySpan<int> globals, int d, float scale, int rows, float* output, int outStride)
    {
        var isGlobal = new bool[length];
        foreach (int j in globals) isGlobal[j] = true;
        var p = new double[length];
        for (int i = 0; i < rows; i++)
        {
            float* o = output + (long)i * outStride;
            if (i >= length) { for (int c = 0; c < d; c++) o[c] = 0; continue; }
            bool global = isGlobal[i];
            float* qi = (global ? qg : q) + (long)i * stride;
            float* keys = global ? kg : k, values = global ? vg : v;
            double max = double.NegativeInfinity;
            for (int j = 0; j < length; j++)
            {
                bool seen = global || isGlobal[j] || Math.Abs(i - j) <= w;
                if (!seen) { p[j] = double.NaN; continue; }
                double dot = 0;
                for (int t = 0; t < d; t++) dot += (double)qi[t] * keys[(long)j * stride + t];
                p[j] = dot * scale;
                max = Math.Max(max, p[j]);
            }
            double sum = 0;
            for (int j = 0; j < length; j++) if (!double.IsNaN(p[j])) { p[j] = Math.Exp(p[j] - max); sum += p[j]; }
            for (int c = 0; c < d; c++)
            {
                double acc = 0;
                for (int j = 0; j < length; j++) if (!double.IsNaN(p[j])) acc += p[j] / sum * values[(long)j * stride + c];
                o[c] = (float)acc;
            }
        }
    }
}
