using NativeTransformer.Tests.Tokenization.Oracle;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// The ASCII path of the WordPiece tokenizer against (1) HF's Rust tokenizers (ids) and (2) our general path
/// (BertNormalizer + BertPreTokenizer + WordPiece, itself checked against HF), which must give the identical encoding:
/// ids, type ids, tokens and offsets. Random ASCII text (fixed seeds) with every ASCII char, upper case, runs of
/// whitespace and control characters (which send a stretch to the general path), words over 100 chars, unknown words
/// and literal special tokens.
/// </summary>
public sealed class WordPieceAsciiPathTests
{
    private static readonly string[] Words =
        ["the", "The", "MOVIE", "unbelievably", "gorgeous", "witty", "xqzzv", "don't", "it's", "[SEP]", "[MASK]", "[cls]",
         "a-b", "e.g.", "1,234.5", "hello", "naïve", "un##known", "####", "##", new string('a', 101), new string('z', 100),
         "supercalifragilisticexpialidocious", "tokenization", "HuggingFace"];

    private static string RandomText(Random rng)
    {
        var sb = new System.Text.StringBuilder();
        int n = rng.Next(0, 12);
        for (int i = 0; i < n; i++)
        {
            switch (rng.Next(4))
            {
                case 0: sb.Append((char)rng.Next(0, 128)); break; // any ASCII char, controls included
                case 1: for (int k = rng.Next(1, 8); k > 0; k--) sb.Append((char)rng.Next(32, 127)); break;
                default: sb.Append(Words[rng.Next(Words.Length)]); break;
            }
            sb.Append(" \t\n  \r"[rng.Next(6)]);
        }
        return sb.ToString();
    }

    public static TheoryData<string> WordPieceFolders() => WordPieceCodePointTests.WordPieceFolders();

    [Theory]
    [MemberData(nameof(WordPieceFolders))]
    public void Ascii_path_equals_the_general_path_and_HuggingFace(string folder)
    {
        var (oursAny, theirs, _) = TokenizerOracleTests.Load(folder);
        using var _ = theirs;
        var fast = Assert.IsType<WordPieceTokenizer>(oursAny);
        var general = fast.WithoutAsciiPath();
        var rng = new Random(1234);
        var differing = new List<string>();
        for (int i = 0; i < 3000; i++)
        {
            string text = RandomText(rng), pair = RandomText(rng);
            var a = fast.Encode(text, i % 3 == 0 ? pair : null);
            var b = general.Encode(text, i % 3 == 0 ? pair : null);
            if (!a.Ids.AsSpan().SequenceEqual(b.Ids) || !a.TypeIds.AsSpan().SequenceEqual(b.TypeIds)
                || !a.Tokens.AsSpan().SequenceEqual(b.Tokens) || !a.Offsets.AsSpan().SequenceEqual(b.Offsets))
                differing.Add($"general path: {OracleComparison.Escape(text)}");
            var hf = theirs.EncodeNoSpecial(text);
            if (!fast.EncodeIdsNoSpecial(text).AsSpan().SequenceEqual(hf))
                differing.Add($"HF: {OracleComparison.Escape(text)}");
        }
        Assert.True(differing.Count == 0, $"{folder}: {differing.Count} differences:\n  " + string.Join("\n  ", differing.Take(10)));
    }

    [Fact]
    public void Dropped_control_characters_keep_original_offsets()
    {
        // A stretch holding a control character that clean_text drops leaves the ASCII path (its offsets are no longer
        // "normalized index + start"); both tokenizers must then give the general path's offsets, which skip it.
        var tok = WordPieceTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "ab", "##cd", "cd"]);
        var general = tok.WithoutAsciiPath();
        foreach (var text in new[] { "ab\u0001cd", "AB cd", "abcd", "ab\u007fcd x" })
        {
            var a = tok.Encode(text);
            var b = general.Encode(text);
            Assert.Equal(b.Ids, a.Ids);
            Assert.Equal(b.Offsets, a.Offsets);
        }
        Assert.Equal([(0, 0), (0, 2), (3, 5), (0, 0)], tok.Encode("ab\u0001cd").Offsets);
        Assert.Equal([(0, 0), (0, 2), (2, 4), (0, 0)], tok.Encode("abcd").Offsets);
    }
}
