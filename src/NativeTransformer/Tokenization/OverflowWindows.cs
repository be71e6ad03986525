namespace NativeTransformer.Tokenization;

/// <summary>
/// Overlapping windows over one segment of an encoding that is too long for the model, as Hugging Face tokenizers
/// make them with <c>return_overflowing_tokens=True, stride=N</c> (for a pair: <c>truncation="only_second"</c>).
/// Works on a complete, untruncated <see cref="Encoding"/> from any <see cref="ITokenizer"/>: that encoding already
/// carries the tokenizer's special-token template, so every window keeps the tokens before the windowed segment
/// (e.g. <c>[CLS] question [SEP]</c>) and after it (<c>[SEP]</c>) exactly as the post-processor placed them, with
/// their type ids, and takes a slice of the segment's tokens (ids, type ids, offsets into the original string).
/// </summary>
public static class OverflowWindows
{
    /// <summary>
    /// Splits the tokens of <paramref name="segment"/> (a <see cref="Encoding.SequenceIds"/> value: 0 = text, 1 = text_pair)
    /// into windows of at most <paramref name="maxLength"/> tokens in all. Consecutive windows share
    /// <paramref name="stride"/> segment tokens: window k starts at k·(room − stride), where room is what
    /// <paramref name="maxLength"/> leaves after the other tokens; the last window ends at the segment's last token.
    /// An encoding that fits is returned as the only window.
    /// </summary>
    /// <exception cref="InputException">The segment's tokens are not contiguous, or the room left for them is not larger
    /// than <paramref name="stride"/> (the windows would not advance).</exception>
    public static Encoding[] Split(Encoding full, int segment, int maxLength, int stride) => Split(full, segment, maxLength, stride, out _);

    /// <summary><see cref="Split(Encoding, int, int, int)"/>, also giving each window's slice [Start, Stop) of the
    /// segment's tokens (0 = the segment's first token), which callers weigh windows by.</summary>
    public static Encoding[] Split(Encoding full, int segment, int maxLength, int stride, out (int Start, int Stop)[] ranges)
    {
        ArgumentNullException.ThrowIfNull(full);
        if (stride < 0) throw new InputException($"stride must be non-negative, got {stride}");
        var (first, count) = SegmentRange(full, segment);
        ranges = [(0, count)];
        if (full.Length <= maxLength) return [full];
        int others = full.Length - count;
        int room = maxLength - others;
        if (room <= stride)
            throw new InputException($"max length {maxLength} leaves {Math.Max(room, 0)} tokens per window for segment {segment} " +
                $"({others} tokens are taken by the rest of the input and the special tokens); that must exceed the stride {stride}");
        var windows = new List<Encoding>();
        var slices = new List<(int, int)>();
        for (int start = 0; ; start += room - stride)
        {
            int stop = Math.Min(start + room, count);
            windows.Add(Slice(full, first, count, start, stop));
            slices.Add((start, stop));
            if (stop == count) break;
        }
        ranges = slices.ToArray();
        return windows.ToArray();
    }

    /// <summary>Drops the tokens of <paramref name="segment"/> beyond its first <paramref name="keep"/> (everything else stays).</summary>
    public static Encoding KeepFirst(Encoding full, int segment, int keep)
    {
        ArgumentNullException.ThrowIfNull(full);
        var (first, count) = SegmentRange(full, segment);
        if (count <= keep) return full;
        return Slice(full, first, count, 0, Math.Max(keep, 0));
    }

    /// <summary>The first index and the count of the tokens of <paramref name="segment"/>, which must be contiguous.</summary>
    private static (int First, int Count) SegmentRange(Encoding e, int segment)
    {
        int first = Array.IndexOf(e.SequenceIds, segment);
        if (first < 0) return (e.Length, 0);
        int last = Array.LastIndexOf(e.SequenceIds, segment);
        for (int i = first; i <= last; i++)
            if (e.SequenceIds[i] != segment)
                throw new InputException($"the tokens of segment {segment} are not contiguous (token {i} belongs to {e.SequenceIds[i]})");
        return (first, last - first + 1);
    }

    /// <summary>The encoding with segment tokens [first, first + count) replaced by their sub-range [start, stop).</summary>
    private static Encoding Slice(Encoding e, int first, int count, int start, int stop)
    {
        int tailStart = first + count, tail = e.Length - tailStart, n = first + (stop - start) + tail;
        T[] Take<T>(T[] source)
        {
            var result = new T[n];
            Array.Copy(source, 0, result, 0, first);
            Array.Copy(source, first + start, result, first, stop - start);
            Array.Copy(source, tailStart, result, n - tail, tail);
            return result;
        }
        return new Encoding(Take(e.Ids), Take(e.TypeIds), Take(e.Tokens), Take(e.Offsets), Take(e.SequenceIds), Truncated: true);
    }
}
