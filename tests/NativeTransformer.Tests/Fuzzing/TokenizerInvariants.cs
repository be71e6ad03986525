using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>What every encoding must satisfy, whatever the text: checked on fuzzed inputs, not just "no crash".</summary>
internal static class TokenizerInvariants
{
    public static Encoding EncodeAndCheck(WordPieceTokenizer tok, string text, string? pair, int? maxLength)
    {
        var e = tok.Encode(text, pair, maxLength);
        int n = e.Length;
        Assert.True(n == e.TypeIds.Length && n == e.Tokens.Length && n == e.Offsets.Length && n == e.SequenceIds.Length, "parallel arrays differ in length");
        Assert.All(e.Ids, id => Assert.InRange(id, 0, tok.VocabSize - 1));
        Assert.Equal(tok.ClsId, e.Ids[0]);
        Assert.Equal(tok.SepId, e.Ids[^1]);
        if (maxLength is { } max) Assert.True(n <= max, $"length {n} exceeds max length {max}");

        var full = tok.EncodeIdsNoSpecial(text).Length + (pair is null ? 0 : tok.EncodeIdsNoSpecial(pair).Length);
        int specials = pair is null ? 2 : 3;
        Assert.Equal(e.Truncated, full + specials > n);
        if (!e.Truncated) Assert.Equal(full + specials, n);

        int lastStart = 0, lastEnd = 0, lastSeq = -1;
        for (int i = 0; i < n; i++)
        {
            int seq = e.SequenceIds[i];
            var (start, end) = e.Offsets[i];
            if (seq < 0)
            {
                Assert.Equal((0, 0), (start, end));
                Assert.True(e.Ids[i] == tok.ClsId || e.Ids[i] == tok.SepId);
                continue;
            }
            Assert.Equal(seq, e.TypeIds[i]);
            string segment = seq == 0 ? text : pair!;
            Assert.True(0 <= start && start <= end && end <= segment.Length, $"offsets ({start}, {end}) outside a {segment.Length}-unit text");
            Assert.True(end > start, $"token {i} '{e.Tokens[i]}' has an empty span ({start}, {end})");
            Assert.False(SplitsPair(segment, start) || SplitsPair(segment, end), $"offsets ({start}, {end}) split a surrogate pair");
            if (seq != lastSeq) { lastStart = lastEnd = 0; lastSeq = seq; }
            Assert.True(start >= lastStart && end >= lastEnd, $"offsets go backwards at token {i}: ({start}, {end}) after ({lastStart}, {lastEnd})");
            lastStart = start; lastEnd = end;
            Assert.Equal(tok.IdToToken(e.Ids[i]), e.Tokens[i]);
        }

        var again = tok.Encode(text, pair, maxLength); // deterministic
        Assert.Equal(e.Ids, again.Ids);
        Assert.Equal(e.Offsets, again.Offsets);
        return e;
    }

    /// <summary>The family-independent invariants, for any <see cref="ITokenizer"/> (byte-level BPE: a token that covers
    /// part of a character gets the whole character's range, so neighbours may share a range, and trimmed offsets
    /// may be empty).</summary>
    public static Encoding EncodeAndCheckAny(ITokenizer tok, string text, string? pair, int? maxLength)
    {
        var e = tok.Encode(text, pair, maxLength);
        int n = e.Length;
        Assert.True(n == e.TypeIds.Length && n == e.Tokens.Length && n == e.Offsets.Length && n == e.SequenceIds.Length, "parallel arrays differ in length");
        Assert.All(e.Ids, id => Assert.InRange(id, 0, tok.VocabSize - 1));
        if (maxLength is { } max) Assert.True(n <= max, $"length {n} exceeds max length {max}");
        var full = tok.EncodeIdsNoSpecial(text).Length + (pair is null ? 0 : tok.EncodeIdsNoSpecial(pair).Length);
        int specials = tok.SpecialTokenCount(pair != null);
        Assert.Equal(e.Truncated, full + specials > n);
        if (!e.Truncated) Assert.Equal(full + specials, n);
        int lastStart = 0, lastSeq = -1;
        for (int i = 0; i < n; i++)
        {
            int seq = e.SequenceIds[i];
            var (start, end) = e.Offsets[i];
            Assert.Equal(tok.IdToToken(e.Ids[i]), e.Tokens[i]);
            if (seq < 0) { Assert.Equal((0, 0), (start, end)); continue; }
            string segment = seq == 0 ? text : pair!;
            Assert.True(0 <= start && start <= end && end <= segment.Length, $"offsets ({start}, {end}) outside a {segment.Length}-unit text");
            Assert.False(SplitsPair(segment, start) || SplitsPair(segment, end), $"offsets ({start}, {end}) split a surrogate pair");
            if (seq != lastSeq) { lastStart = 0; lastSeq = seq; }
            Assert.True(start >= lastStart, $"offsets go backwards at token {i}: ({start}, {end}) after start {lastStart}");
            lastStart = start;
        }
        var again = tok.Encode(text, pair, maxLength);
        Assert.Equal(e.Ids, again.Ids);
        Assert.Equal(e.Offsets, again.Offsets);
        return e;
    }

    private static bool SplitsPair(string s, int at) =>
        at > 0 && at < s.Length && char.IsHighSurrogate(s[at - 1]) && char.IsLowSurrogate(s[at]);
}
