using NativeTransformer.Tokenization;

namespace NativeTransformer;

/// <summary>Builds right-padded batches from already tokenized rows.</summary>
internal static class Batching
{
    /// <summary>Pads <paramref name="rows"/> to the longest one: pad id, type 0, attention mask 0.</summary>
    public static EncodedBatch Pad(Encoding[] rows, int padId)
    {
        int b = rows.Length, seq = 0;
        foreach (var r in rows) seq = Math.Max(seq, r.Length);
        var ids = new int[b * seq]; var types = new int[b * seq]; var mask = new int[b * seq]; var lengths = new int[b];
        if (padId != 0) ids.AsSpan().Fill(padId);
        for (int i = 0; i < b; i++)
        {
            var r = rows[i];
            r.Ids.CopyTo(ids, i * seq);
            r.TypeIds.CopyTo(types, i * seq);
            mask.AsSpan(i * seq, r.Length).Fill(1);
            lengths[i] = r.Length;
        }
        return new EncodedBatch(b, seq, ids, types, mask, lengths, rows);
    }

    /// <summary>
    /// Input indices grouped into batches of at most <paramref name="batchSize"/>, sorted by token count so
    /// rows of similar length share a batch (less padding). Results do not depend on the grouping
    /// (see <see cref="Models.Encoder"/>), so callers just scatter them back by index.
    /// </summary>
    public static IEnumerable<int[]> ByLength(Encoding[] rows, int batchSize)
    {
        var order = Enumerable.Range(0, rows.Length).OrderBy(i => rows[i].Length).ThenBy(i => i).ToArray();
        for (int start = 0; start < order.Length; start += batchSize)
            yield return order[start..Math.Min(order.Length, start + batchSize)];
    }
}
