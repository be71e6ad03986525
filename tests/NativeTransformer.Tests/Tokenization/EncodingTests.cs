using System.Diagnostics;
using System.Text;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>Encode / EncodeBatch: template, offsets, WordPiece, truncation, padding, special tokens in text, speed.</summary>
/// <remarks>Serial: <see cref="OneMegabyteIsFast"/> measures process CPU time, which parallel tests would inflate.</remarks>
[Collection(SerialCollection.Name)]
public class EncodingTests
{
    private static WordPieceTokenizer Tok => TokenizerTestData.BertUncased;

    [Fact]
    public void EmptyTextIsClsSep()
    {
        var e = Tok.Encode("");
        Assert.Equal([101, 102], e.Ids);
        Assert.Equal([0, 0], e.TypeIds);
        Assert.Equal([(0, 0), (0, 0)], e.Offsets);
        Assert.Equal([-1, -1], e.SequenceIds);
        Assert.False(e.Truncated);
        Assert.Empty(Tok.EncodeIdsNoSpecial("  \t\u200B "));
    }

    [Fact]
    public void OffsetsPointIntoTheOriginalString()
    {
        const string text = "Héllo, wörld! 我的";
        var e = Tok.Encode(text);
        Assert.Equal(["[CLS]", "hello", ",", "world", "!", "我", "的", "[SEP]"], e.Tokens);
        Assert.Equal([(0, 0), (0, 5), (5, 6), (7, 12), (12, 13), (14, 15), (15, 16), (0, 0)], e.Offsets);
        Assert.Equal([-1, 0, 0, 0, 0, 0, 0, -1], e.SequenceIds);
    }

    [Fact]
    public void SubwordOffsetsTileTheWord()
    {
        const string text = "  Unaffable!";
        var e = Tok.Encode(text);
        Assert.Equal(["[CLS]", "una", "##ffa", "##ble", "!", "[SEP]"], e.Tokens);
        Assert.Equal([(2, 5), (5, 8), (8, 11), (11, 12)], e.Offsets[1..^1]);
    }

    [Fact]
    public void AccentedLettersKeepTheirWholeOriginalRange()
    {
        // precomposed é: one original char -> its normalized "e" keeps the range (3, 4)
        var p = Tok.Encode("Café x");
        Assert.Equal(["[CLS]", "cafe", "x", "[SEP]"], p.Tokens);
        Assert.Equal([(0, 4), (5, 6)], p.Offsets[1..^1]);
        // decomposed input: the stripped U+0301 leaves no normalized char, so (as in HF) the token ends at 'e'
        var d = Tok.Encode("Cafe\u0301 x");
        Assert.Equal(["[CLS]", "cafe", "x", "[SEP]"], d.Tokens);
        Assert.Equal([(0, 4), (6, 7)], d.Offsets[1..^1]);
    }

    [Fact]
    public void EmojiAndAstralCharactersUseUtf16Offsets()
    {
        var e = Tok.Encode("I 🦙 x\U00020000y");
        Assert.Equal(["[CLS]", "i", "[UNK]", "x", "[UNK]", "y", "[SEP]"], e.Tokens);
        Assert.Equal([(0, 1), (2, 4), (5, 6), (6, 8), (8, 9)], e.Offsets[1..^1]);
    }

    [Fact]
    public void UnknownWordIsOneUnkForTheWholeWord()
    {
        var e = Tok.Encode("hello☃world now");
        Assert.Equal(["[CLS]", "[UNK]", "now", "[SEP]"], e.Tokens);
        Assert.Equal((0, 11), e.Offsets[1]);
    }

    [Fact]
    public void WordsLongerThanMaxInputCharsAreUnk()
    {
        var ok = new string('a', 100);
        var tooLong = new string('a', 101);
        Assert.DoesNotContain(100, Tok.EncodeIdsNoSpecial(ok));
        Assert.Equal([100], Tok.EncodeIdsNoSpecial(tooLong));
        // counted in code points, not UTF-16 units: 60 astral letters = 120 units but 60 chars
        var astral = string.Concat(Enumerable.Repeat("\U0001D41A", 60)); // MATHEMATICAL BOLD SMALL A (not in vocab anyway)
        Assert.Equal([100], Tok.EncodeIdsNoSpecial(astral));
        var e = Tok.Encode("x " + tooLong);
        Assert.Equal((2, 103), e.Offsets[2]);
    }

    [Fact]
    public void SpecialTokensWrittenInTextAreRecognized()
    {
        var e = Tok.Encode("the [MASK] is[SEP]x [mask]");
        Assert.Equal(["[CLS]", "the", "[MASK]", "is", "[SEP]", "x", "[", "mask", "]", "[SEP]"], e.Tokens);
        Assert.Equal([101, 1996, 103, 2003, 102, 1060, 1031, 7308, 1033, 102], e.Ids);
        Assert.Equal((4, 10), e.Offsets[2]);
        var off = WordPieceTokenizer.FromVocab(Vocab(), new TokenizerOptions { MatchSpecialTokensInText = false });
        Assert.DoesNotContain(off.MaskId, off.EncodeIdsNoSpecial("[MASK]"));
    }

    [Fact]
    public void PairGetsTypeIdsAndSequenceIds()
    {
        var e = Tok.Encode("hello world", "good movie");
        Assert.Equal(["[CLS]", "hello", "world", "[SEP]", "good", "movie", "[SEP]"], e.Tokens);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], e.TypeIds);
        Assert.Equal([-1, 0, 0, -1, 1, 1, -1], e.SequenceIds);
        Assert.Equal((0, 4), e.Offsets[4]); // offsets are into the pair text
    }

    [Fact]
    public void SingleTruncationCutsFromTheRight()
    {
        var e = Tok.Encode("a b c d e f", maxLength: 5);
        Assert.Equal(["[CLS]", "a", "b", "c", "[SEP]"], e.Tokens);
        Assert.True(e.Truncated);
        Assert.False(Tok.Encode("a b c", maxLength: 5).Truncated);
        Assert.Equal(["[CLS]", "[SEP]"], Tok.Encode("a b", maxLength: 2).Tokens);
    }

    [Theory]
    // A tokens, B tokens, maxLength -> kept (A, B) for transformers' longest_first (one at a time, tie -> second)
    [InlineData(5, 5, 10, 4, 3)]
    [InlineData(5, 5, 11, 4, 4)]
    [InlineData(6, 5, 12, 5, 4)]
    [InlineData(5, 6, 12, 5, 4)]
    [InlineData(2, 9, 8, 2, 3)]
    [InlineData(9, 2, 8, 3, 2)]
    [InlineData(3, 3, 3, 0, 0)]
    [InlineData(4, 1, 7, 3, 1)]
    public void PairTruncationIsLongestFirst(int na, int nb, int max, int keepA, int keepB)
    {
        string A = string.Join(' ', Enumerable.Repeat("a", na)), B = string.Join(' ', Enumerable.Repeat("b", nb));
        var e = Tok.Encode(A, B, max);
        Assert.Equal(keepA, e.SequenceIds.Count(s => s == 0));
        Assert.Equal(keepB, e.SequenceIds.Count(s => s == 1));
        Assert.Equal(keepA + keepB + 3, e.Length);
        Assert.True(e.Truncated);
    }

    [Fact]
    public void ClosedFormMatchesTheOneAtATimeLoop()
    {
        for (int n1 = 0; n1 <= 12; n1++)
        for (int n2 = 0; n2 <= 12; n2++)
        for (int budget = 0; budget <= 26; budget++)
        {
            int a = n1, b = n2;
            while (a + b > budget) { if (a > b) a--; else b--; }
            Assert.Equal((a, b), Truncation.Lengths(n1, n2, budget, PairTruncationStrategy.LongestFirst));
        }
    }

    [Theory]
    // HF tokenizers (Rust) arithmetic: equal lengths, odd budget -> the SECOND keeps the extra token
    [InlineData(5, 5, 7, 3, 4)]
    [InlineData(5, 6, 9, 4, 5)]
    [InlineData(6, 5, 9, 5, 4)]
    [InlineData(2, 9, 5, 2, 3)]
    [InlineData(5, 5, 8, 4, 4)]
    public void RustStrategyFollowsTokenizersArithmetic(int n1, int n2, int budget, int k1, int k2) =>
        Assert.Equal((k1, k2), Truncation.Lengths(n1, n2, budget, PairTruncationStrategy.LongestFirstRust));

    [Fact]
    public void MaxLengthBelowSpecialTokensIsAnError()
    {
        var ex = Assert.Throws<InputException>(() => Tok.Encode("hello", maxLength: 1));
        Assert.Contains("max length 1", ex.Message);
        Assert.Throws<InputException>(() => Tok.Encode("a", "b", maxLength: 2));
        Assert.IsAssignableFrom<NativeTransformerException>(ex);
    }

    [Fact]
    public void BatchIsRightPaddedToTheLongestRow()
    {
        var b = Tok.EncodeBatch([("hello world", null), ("", null), ("a", "b c")], null);
        Assert.Equal(3, b.BatchSize);
        Assert.Equal(6, b.SeqLen);
        Assert.Equal([4, 2, 6], b.Lengths);
        Assert.Equal([101, 7592, 2088, 102, 0, 0], b.InputIds[..6]);
        Assert.Equal([1, 1, 1, 1, 0, 0], b.AttentionMask[..6]);
        Assert.Equal([101, 102, 0, 0, 0, 0], b.InputIds[6..12]);
        Assert.Equal([0, 0, 0, 0, 0, 0], b.TypeIds[6..12]);
        Assert.Equal([0, 0, 0, 1, 1, 1], b.TypeIds[12..]);
        Assert.Equal([1, 1, 1, 1, 1, 1], b.AttentionMask[12..]);
        Assert.Equal(3, b.Rows.Length);
        var empty = Tok.EncodeBatch([], 16);
        Assert.Equal(0, empty.BatchSize);
    }

    [Fact]
    public void OneMegabyteIsFast()
    {
        var sb = new StringBuilder();
        var rnd = new Random(7);
        string[] words = ["the", "movie", "Café", "unaffable", "我", "🦙", "don't", "résumé", "\u200B", "x\u0301", "!!", "İ"];
        while (sb.Length < 1 << 20) sb.Append(words[rnd.Next(words.Length)]).Append(rnd.Next(8) == 0 ? "\n" : " ");
        var text = sb.ToString();
        // Process CPU time rather than wall clock: shared CI machines get oversubscribed (11 s wall seen at load 60).
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var e = Tok.Encode(text);
        var noSpace = new string('x', 1 << 20);
        var ids2 = Tok.EncodeIdsNoSpecial(noSpace);
        var cjk = string.Concat(Enumerable.Repeat("我们喜欢", 1 << 18));
        var ids3 = Tok.EncodeIdsNoSpecial(cjk);
        var truncated = Tok.Encode(text, text, 512);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        Assert.True(e.Length > 100_000);
        Assert.Equal([100], ids2);
        Assert.Equal(1 << 20, ids3.Length);
        Assert.Equal(512, truncated.Length);
        Assert.True(cpu < TimeSpan.FromSeconds(10), $"took {cpu} of CPU");
    }

    internal static string[] Vocab() => ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "##b", "hello", "Hello"];
}
