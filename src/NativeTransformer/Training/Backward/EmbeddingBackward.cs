namespace NativeTransformer.Training;

/// <summary>
/// Embedding lookups e[t] = Σ_tables table[id_table[t]] and their gradient: each row of dE is added to the rows it was read
/// from, in token order (deterministic). <c>paddingIndex</c>, as nn.Embedding's padding_idx, never receives gradient.
/// </summary>
public static class EmbeddingBackward
{
    /// <summary>dst[t] += table[ids[t]] for every token t.</summary>
    public static void AddRows(ReadOnlySpan<float> table, ReadOnlySpan<int> ids, Span<float> dst, int width)
    {
        for (int t = 0; t < ids.Length; t++)
        {
            var row = table.Slice(ids[t] * width, width);
            var d = dst.Slice(t * width, width);
            for (int i = 0; i < width; i++) d[i] += row[i];
        }
    }

    /// <summary>dTable[ids[t]] += dE[t], skipping <paramref name="paddingIndex"/> (−1 = none).</summary>
    public static void Backward(ReadOnlySpan<float> dE, ReadOnlySpan<int> ids, Span<float> dTable, int width, int paddingIndex)
    {
        for (int t = 0; t < ids.Length; t++)
        {
            if (ids[t] == paddingIndex) continue;
            var d = dTable.Slice(ids[t] * width, width);
            var g = dE.Slice(t * width, width);
            for (int i = 0; i < width; i++) d[i] += g[i];
        }
    }
}
