using NativeTransformer.Tokenization;

namespace NativeTransformer;

/// <summary>Groups tokenized rows into batches (padding itself is <see cref="PostProcessor.Pad"/>).</summary>
internal static class Batching
{
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
