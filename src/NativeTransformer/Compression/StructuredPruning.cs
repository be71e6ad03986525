namespace NativeTransformer.Compression;

/// <summary>
/// The attention of one encoder layer as row-major [out, in] matrices: query/key/value [A, H] with biases [A] and the
/// attention output [H, A], where A = <see cref="OriginalHeads"/>.Count · <see cref="HeadSize"/>. Head j (local) owns
/// rows j·D..(j+1)·D-1 of query/key/value and the same columns of the output; <see cref="OriginalHeads"/>[j] is its index in
/// the unpruned model (what config.json's pruned_heads records). The output bias [H] does not depend on the heads.
/// </summary>
public sealed record AttentionBlock(
    float[] Query, float[] QueryBias, float[] Key, float[] KeyBias, float[] Value, float[] ValueBias, float[] Output,
    int Hidden, int HeadSize, IReadOnlyList<int> OriginalHeads)
{
    public int Heads => OriginalHeads.Count;
    public int Width => Heads * HeadSize;
}

/// <summary>The feed-forward block of one layer: In [N, H] with bias [N] (then the activation), Out [H, N]. Neuron n owns
/// row n of In, entry n of its bias and column n of Out. The Out bias [H] does not depend on the neurons.</summary>
public sealed record FfnBlock(float[] In, float[] InBias, float[] Out, int Hidden, int Neurons);

/// <summary>
/// Structured pruning as pure functions (inputs never modified, results are fresh arrays): removing whole attention
/// heads and feed-forward neurons shrinks the matrices, so the dense kernels do less work.
/// </summary>
/// <remarks>
/// <para><b>Head importance</b> of head j: the Frobenius norm of all its weights,
/// sqrt(‖Wq[j·D..(j+1)·D, :]‖² + ‖Wk[same rows]‖² + ‖Wv[same rows]‖² + ‖Wo[:, j·D..(j+1)·D]‖²), biases excluded.</para>
/// <para><b>Neuron importance</b> of neuron n: ‖W1[n, :]‖₂ · ‖W2[:, n]‖₂ — how strongly it reads the input times how strongly
/// it writes the output (a neuron with either norm 0 contributes at most a constant). Biases excluded.</para>
/// <para>The lowest importances are removed; ties go to the lower index first. Kept heads and neurons keep their order.</para>
/// </remarks>
public static class StructuredPruning
{
    /// <summary>Heads to remove from a layer of <paramref name="heads"/> heads: floor(fraction·heads) (in decimal), at most
    /// heads − 1 so every layer keeps a head.</summary>
    public static int HeadsToRemove(int heads, double fraction)
    {
        CheckFraction(fraction, "heads");
        return Math.Min((int)decimal.Floor((decimal)fraction * heads), heads - 1);
    }

    /// <summary>
    /// Neurons to keep of <paramref name="neurons"/>: neurons − floor(fraction·neurons), then rounded to the nearest multiple
    /// of <paramref name="multiple"/> (ties up; at least <paramref name="multiple"/>, at most <paramref name="neurons"/>), so the
    /// shrunk matrices fill the GEMM panels. fraction 0 keeps everything.
    /// </summary>
    public static int NeuronsToKeep(int neurons, double fraction, int multiple = 1)
    {
        CheckFraction(fraction, "ffn");
        if (multiple < 1) throw new ArgumentOutOfRangeException(nameof(multiple), multiple, "the neuron multiple must be positive");
        if (fraction == 0) return neurons;
        int keep = neurons - (int)decimal.Floor((decimal)fraction * neurons);
        if (multiple > 1 && neurons >= multiple)
            keep = Math.Clamp((keep + multiple / 2) / multiple * multiple, multiple, neurons);
        return Math.Max(keep, 1);
    }

    /// <summary>Importance of each head of <paramref name="block"/> (see remarks).</summary>
    public static double[] HeadImportance(AttentionBlock block)
    {
        int d = block.HeadSize, h = block.Hidden, a = block.Width;
        var result = new double[block.Heads];
        for (int j = 0; j < result.Length; j++)
        {
            double sum = 0;
            foreach (var w in new[] { block.Query, block.Key, block.Value })
                sum += SumOfSquares(w.AsSpan(j * d * h, d * h));
            for (int r = 0; r < h; r++)
                sum += SumOfSquares(block.Output.AsSpan(r * a + j * d, d));
            result[j] = Math.Sqrt(sum);
        }
        return result;
    }

    /// <summary>Importance of each neuron of <paramref name="block"/> (see remarks).</summary>
    public static double[] NeuronImportance(FfnBlock block)
    {
        int h = block.Hidden, n = block.Neurons;
        var outColumn = new double[n];
        for (int r = 0; r < h; r++)
        {
            var row = block.Out.AsSpan(r * n, n);
            for (int c = 0; c < n; c++) outColumn[c] += (double)row[c] * row[c];
        }
        var result = new double[n];
        for (int c = 0; c < n; c++) result[c] = Math.Sqrt(SumOfSquares(block.In.AsSpan(c * h, h))) * Math.Sqrt(outColumn[c]);
        return result;
    }

    /// <summary>Indices of the <paramref name="count"/> lowest importances, ascending (ties: lower index first).</summary>
    public static int[] Lowest(IReadOnlyList<double> importance, int count)
    {
        if (count < 0 || count > importance.Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"cannot remove {count} of {importance.Count}");
        return Enumerable.Range(0, importance.Count).OrderBy(i => importance[i]).ThenBy(i => i).Take(count).Order().ToArray();
    }

    /// <summary><paramref name="block"/> without the heads at local indices <paramref name="remove"/>.</summary>
    public static AttentionBlock RemoveHeads(AttentionBlock block, IReadOnlyCollection<int> remove)
    {
        var keep = Enumerable.Range(0, block.Heads).Where(j => !remove.Contains(j)).ToArray();
        if (keep.Length == 0) throw new ArgumentException("cannot remove every head of a layer", nameof(remove));
        int d = block.HeadSize;
        // Head j ↔ the D consecutive rows (query/key/value) or columns (output) starting at j·D.
        var rows = keep.SelectMany(j => Enumerable.Range(j * d, d)).ToArray();
        return block with
        {
            Query = SelectRows(block.Query, block.Hidden, rows), QueryBias = Select(block.QueryBias, rows),
            Key = SelectRows(block.Key, block.Hidden, rows), KeyBias = Select(block.KeyBias, rows),
            Value = SelectRows(block.Value, block.Hidden, rows), ValueBias = Select(block.ValueBias, rows),
            Output = SelectColumns(block.Output, block.Hidden, block.Width, rows),
            OriginalHeads = keep.Select(j => block.OriginalHeads[j]).ToArray(),
        };
    }

    /// <summary><paramref name="block"/> keeping only the neurons at <paramref name="keep"/> (ascending).</summary>
    public static FfnBlock KeepNeurons(FfnBlock block, IReadOnlyList<int> keep) => block with
    {
        In = SelectRows(block.In, block.Hidden, keep), InBias = Select(block.InBias, keep),
        Out = SelectColumns(block.Out, block.Hidden, block.Neurons, keep), Neurons = keep.Count,
    };

    /// <summary>Removes the <paramref name="count"/> least important neurons.</summary>
    public static FfnBlock PruneNeurons(FfnBlock block, int count)
    {
        var remove = Lowest(NeuronImportance(block), count);
        return KeepNeurons(block, Enumerable.Range(0, block.Neurons).Except(remove).ToArray());
    }

    /// <summary>Removes the <paramref name="count"/> least important heads; also returns their ORIGINAL indices.</summary>
    public static (AttentionBlock Block, int[] RemovedOriginal) PruneHeads(AttentionBlock block, int count)
    {
        var remove = Lowest(HeadImportance(block), count);
        return (RemoveHeads(block, remove), remove.Select(j => block.OriginalHeads[j]).ToArray());
    }

    private static double SumOfSquares(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        return sum;
    }

    private static float[] Select(float[] values, IReadOnlyList<int> indices)
    {
        var result = new float[indices.Count];
        for (int i = 0; i < result.Length; i++) result[i] = values[indices[i]];
        return result;
    }

    private static float[] SelectRows(float[] matrix, int cols, IReadOnlyList<int> rows)
    {
        var result = new float[rows.Count * cols];
        for (int i = 0; i < rows.Count; i++) matrix.AsSpan(rows[i] * cols, cols).CopyTo(result.AsSpan(i * cols));
        return result;
    }

    private static float[] SelectColumns(float[] matrix, int rowCount, int cols, IReadOnlyList<int> columns)
    {
        var result = new float[rowCount * columns.Count];
        for (int r = 0; r < rowCount; r++)
            for (int i = 0; i < columns.Count; i++) result[r * columns.Count + i] = matrix[r * cols + columns[i]];
        return result;
    }

    private static void CheckFraction(double fraction, string what)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"--{what} must be in [0, 1), got {fraction}");
    }
}
