namespace NativeTransformer.Tasks;

/// <summary>
/// The arithmetic that turns per-window results of one long input back into one result (docs/long-documents.md).
/// Every token of the windowed text is counted once: the tokens two consecutive windows share (the stride) are split
/// between them, the first half (rounded up) to the earlier window and the rest to the later one, so each window's weight
/// is the number of text tokens it "owns" and the weights add up to the text's token count.
/// </summary>
internal static class WindowPooling
{
    /// <summary>The number of text tokens each window owns, for windows over segment slices [Start, Stop) as
    /// <c>OverflowWindows.Split(…, out ranges)</c>
    /// makes them (ascending starts, each window overlapping only its neighbours).</summary>
    public static int[] OwnedTokens(IReadOnlyList<(int Start, int Stop)> ranges)
    {
        var owned = new int[ranges.Count];
        int from = ranges.Count > 0 ? ranges[0].Start : 0;
        for (int k = 0; k < ranges.Count; k++)
        {
            int until = ranges[k].Stop;
            if (k + 1 < ranges.Count)
            {
                int overlapStart = ranges[k + 1].Start, overlap = Math.Max(0, ranges[k].Stop - overlapStart);
                until = overlapStart + (overlap + 1) / 2;
            }
            owned[k] = until - from;
            from = until;
        }
        return owned;
    }

    /// <summary>Σ_k weight[k]·rows[k] / Σ_k weight[k] into <paramref name="output"/>, accumulated in double in window order
    /// (one window: the row itself, bit for bit).</summary>
    public static void WeightedMean(IReadOnlyList<float[]> rows, IReadOnlyList<int> weights, Span<float> output)
    {
        if (rows.Count == 1) { rows[0].AsSpan(0, output.Length).CopyTo(output); return; }
        double total = 0;
        foreach (int w in weights) total += w;
        for (int j = 0; j < output.Length; j++)
        {
            double sum = 0;
            for (int k = 0; k < rows.Count; k++) sum += (double)weights[k] * rows[k][j];
            output[j] = (float)(sum / total);
        }
    }

    /// <summary>
    /// Hugging Face's token-classification pipeline merge of the entities of overlapping windows
    /// (<c>aggregate_overlapping_entities</c>): sorted by start (stable), an entity that starts inside the one kept before
    /// it replaces that one when it is longer, or as long with a higher score, and is dropped otherwise.
    /// </summary>
    public static List<TaggedEntity> MergeOverlapping(List<TaggedEntity> entities)
    {
        if (entities.Count == 0) return entities;
        var sorted = entities.OrderBy(e => e.Start).ToList(); // OrderBy is stable, like Python's sorted
        var merged = new List<TaggedEntity>();
        var previous = sorted[0];
        foreach (var e in sorted)
        {
            if (previous.Start <= e.Start && e.Start < previous.End)
            {
                int length = e.End - e.Start, previousLength = previous.End - previous.Start;
                if (length > previousLength || (length == previousLength && e.Score > previous.Score)) previous = e;
            }
            else
            {
                merged.Add(previous);
                previous = e;
            }
        }
        merged.Add(previous);
        return merged;
    }
}
