using NativeTransformer.Tests.Weights;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>Minimized inputs of the defects the fuzz targets found, each pinned to its fixed behaviour.</summary>
public sealed class FuzzRegressionTests
{
    private static TempDir TokenizerFolder()
    {
        var dir = new TempDir();
        File.WriteAllText(dir.File("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n##a\n");
        return dir;
    }

    /// <summary>tokenizer-loader seed 31337 input 66: a byte 0xAC inside a JSON string escaped as InvalidOperationException.</summary>
    [Fact]
    public void InvalidUtf8InsideATokenizerJsonStringIsATokenizerException()
    {
        using var dir = TokenizerFolder();
        File.WriteAllBytes(dir.File("special_tokens_map.json"), [.. "{\"mask_token\": \"[MA"u8, 0xAC, .. "K]\"}"u8]);
        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(dir.Path));
        Assert.Contains("special_tokens_map.json", e.Message);
    }

    /// <summary>tokenizer-loader seed 1368773726 input 9755: an added token with a negative id escaped as
    /// ArgumentOutOfRangeException; a huge id made the vocabulary table grow to it (gigabytes).</summary>
    [Theory]
    [InlineData("[MASK]", -2147483648)]
    [InlineData("[NEW]", -1)]
    [InlineData("[NEW]", 2000000000)]
    [InlineData("[NEW]", 9)]
    public void AddedTokenIdOutsideTheVocabularyIsATokenizerException(string content, int id)
    {
        using var dir = TokenizerFolder();
        File.WriteAllText(dir.File("tokenizer.json"), $"{{\"added_tokens\": [{{\"id\": {id}, \"content\": \"{content}\"}}]}}");
        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(dir.Path));
        Assert.Contains($"id {id}", e.Message);
    }

    [Fact]
    public void AddedTokenRightAfterTheVocabularyLoads()
    {
        using var dir = TokenizerFolder();
        File.WriteAllText(dir.File("tokenizer.json"), "{\"added_tokens\": [{\"id\": 7, \"content\": \"[NEW]\"}]}");
        var tok = WordPieceTokenizer.FromDirectory(dir.Path);
        Assert.Equal([2, 7, 3], tok.Encode("[NEW]").Ids);
    }

    /// <summary>The same through a JSON escape: a lone surrogate is valid JSON but not a valid string.</summary>
    [Fact]
    public void LoneSurrogateEscapeInTokenizerJsonIsATokenizerException()
    {
        using var dir = TokenizerFolder();
        File.WriteAllText(dir.File("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"\\ud800\"}}");
        var e = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(dir.Path));
        Assert.Contains("tokenizer.json", e.Message);
    }

    /// <summary>Canonical ordering of a run of non-starters longer than the insertion-sort cutoff is still a stable
    /// sort by combining class (the fix for the quadratic 1 MB run must not change results).</summary>
    [Fact]
    public void LongRunOfCombiningMarksIsOrderedStablyByClass()
    {
        // NFD (and so canonical ordering) only runs with strip_accents, which then drops the Mn marks; musical-symbol
        // marks are Mc (kept) with combining classes: U+1D16D class 226, U+1D165 class 216. 2 × 20 marks, interleaved.
        var tok = WordPieceTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
        string run = string.Concat(Enumerable.Repeat("\U0001D16D\U0001D165", 20));
        string expected = "e" + string.Concat(Enumerable.Repeat("\U0001D165", 20)) + string.Concat(Enumerable.Repeat("\U0001D16D", 20));
        Assert.Equal(Codes(expected), Codes(tok.Normalize("e" + run)));
        Assert.Equal(Codes("e\U0001D165\U0001D16D"), Codes(tok.Normalize("e\U0001D16D\U0001D165"))); // short runs (insertion sort) agree
    }

    private static string Codes(string s) => string.Join(" ", s.Select(c => ((int)c).ToString("X4")));

    /// <summary>config seed 572331358 input 136374: layer_norm_eps 1e-120 is a positive double but 0 as float32, which
    /// made LayerNorm divide by zero on a constant row instead of refusing the config.</summary>
    [Fact]
    public void LayerNormEpsThatUnderflowsFloat32IsRefused()
    {
        string config = File.ReadAllText(Path.Combine(TestPaths.Model("bert-tiny-sst2"), "config.json"));
        string hostile = System.Text.RegularExpressions.Regex.Replace(config, "\"layer_norm_eps\":\\s*[^,}]+", "\"layer_norm_eps\": 1e-120");
        Assert.NotEqual(config, hostile);
        var e = Assert.Throws<ModelConfigException>(() => NativeTransformer.Models.ModelConfig.Parse(hostile));
        Assert.Contains("layer_norm_eps", e.Message);
    }

    /// <summary>WordPiece never tries candidates longer than the longest token; results equal the unbounded search,
    /// including pieces made of surrogate pairs next to the bound.</summary>
    [Fact]
    public void BoundedWordPieceSearchKeepsLongestMatchFirst()
    {
        var tok = WordPieceTokenizer.FromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "ab", "a", "##b", "##\U0001F600", "##\U0001F600b", "x"],
            new TokenizerOptions { Lowercase = false, StripAccents = false, TokenizeChineseChars = false });
        Assert.Equal(["ab", "##\U0001F600b", "##\U0001F600", "##\U0001F600b", "##\U0001F600"], tok.TokenizeToStrings("ab\U0001F600b\U0001F600\U0001F600b\U0001F600"));
        Assert.Equal(["[UNK]"], tok.TokenizeToStrings(new string('x', 2) + "\U0001F600"));
        Assert.Equal(["[UNK]"], tok.TokenizeToStrings(new string('a', 99) + "c")); // unknown piece late in a long word
    }
}
