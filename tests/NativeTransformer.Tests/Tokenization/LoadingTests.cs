using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>FromDirectory / FromVocabFile / FromVocab: file handling, settings precedence and errors.</summary>
public sealed class LoadingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nt-tok-" + Guid.NewGuid().ToString("N"));

    public LoadingTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private void Write(string name, string content) => File.WriteAllText(Path.Combine(_dir, name), content);
    private void WriteVocab(params string[] tokens) => Write("vocab.txt", string.Join("\n", tokens) + "\n");

    [Fact]
    public void RealModelFolderSettings()
    {
        var t = TokenizerTestData.BertUncased;
        Assert.Equal(30522, t.VocabSize);
        Assert.Equal((0, 100, 101, 102, 103), (t.PadId, t.UnkId, t.ClsId, t.SepId, t.MaskId));
        Assert.True(t.Options.Lowercase);
        Assert.Null(t.Options.StripAccents);
        Assert.Equal(512, t.Options.ModelMaxLength);
        Assert.Equal("##", t.Options.ContinuingSubwordPrefix);
        Assert.Equal("[CLS]", t.IdToToken(101));
    }

    [Fact]
    public void VocabOnlyFolderUsesBertUncasedDefaults()
    {
        File.Copy(Path.Combine(TestPaths.Model("bert-mini-sst2"), "vocab.txt"), Path.Combine(_dir, "vocab.txt"));
        var t = WordPieceTokenizer.FromDirectory(_dir);
        Assert.True(t.Options.Lowercase);
        Assert.Equal(512, t.Options.ModelMaxLength);
        Assert.Equal(TokenizerTestData.BertUncased.Encode("Héllo, World! [MASK]").Ids, t.Encode("Héllo, World! [MASK]").Ids);
    }

    [Fact]
    public void MissingOrEmptyVocabFails()
    {
        var ex = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));
        Assert.Contains("vocab.txt", ex.Message);
        Write("vocab.txt", "");
        Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));
        Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(Path.Combine(_dir, "nope")));
        Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromVocab([]));
    }

    [Fact]
    public void CrLfAndDuplicates()
    {
        Write("vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\nworld\r\nhello\r\n");
        var t = WordPieceTokenizer.FromDirectory(_dir);
        Assert.Equal(8, t.VocabSize);                  // every line is an id
        Assert.True(t.TryGetId("hello", out var id));
        Assert.Equal(7, id);                           // the last duplicate wins, as in HF's load_vocab
        Assert.Equal("hello", t.IdToToken(5));
        Assert.Equal([2, 7, 6, 3], t.Encode("hello world").Ids);
        Assert.Equal("[UNK]", t.IdToToken(1));        // no stray \r
    }

    [Fact]
    public void MissingSpecialTokenFails()
    {
        WriteVocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello");
        var ex = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));
        Assert.Contains("[MASK]", ex.Message);
    }

    [Theory]
    [InlineData("tokenizer.json")]
    [InlineData("tokenizer_config.json")]
    [InlineData("special_tokens_map.json")]
    public void MalformedJsonNamesTheFile(string file)
    {
        WriteVocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
        Write(file, "{ \"do_lower_case\": tru");
        var ex = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));
        Assert.Contains(file, ex.Message);
    }

    [Theory]
    [InlineData("1e30", false, int.MaxValue)]
    [InlineData("1000000000000000019884624838656", false, int.MaxValue)]
    [InlineData("512", true, 512)]
    [InlineData("128", true, 128)]
    public void ModelMaxLengthSentinelMeansUnset(string value, bool has, int expected)
    {
        WriteVocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
        Write("tokenizer_config.json", $"{{\"model_max_length\": {value}}}");
        var t = WordPieceTokenizer.FromDirectory(_dir);
        Assert.Equal(has, t.Options.HasModelMaxLength);
        Assert.Equal(expected, t.Options.ModelMaxLength);
    }

    [Fact]
    public void ConfigSettingsAndSpecialTokenObjects()
    {
        WriteVocab("<pad>", "<unk>", "<s>", "</s>", "<mask>", "Hello", "hello");
        Write("tokenizer_config.json", """
            { "do_lower_case": false, "tokenize_chinese_chars": false,
              "unk_token": {"content": "<unk>", "__type": "AddedToken"}, "cls_token": "<s>", "sep_token": "</s>",
              "pad_token": "<pad>", "mask_token": "<mask>" }
            """);
        var t = WordPieceTokenizer.FromDirectory(_dir);
        Assert.False(t.Options.Lowercase);
        Assert.False(t.Options.TokenizeChineseChars);
        Assert.Equal((0, 1, 2, 3, 4), (t.PadId, t.UnkId, t.ClsId, t.SepId, t.MaskId));
        Assert.Equal([2, 5, 6, 1, 3], t.Encode("Hello hello HELLO").Ids);
    }

    [Fact]
    public void TokenizerJsonNormalizerAndModelSettingsAreRead()
    {
        WriteVocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Héllo", "a", "@@b");
        Write("tokenizer.json", """
            { "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": false, "lowercase": false},
              "pre_tokenizer": {"type": "BertPreTokenizer"},
              "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "@@", "max_input_chars_per_word": 5, "vocab": {}},
              "truncation": {"max_length": 3}, "padding": null }
            """);
        var t = WordPieceTokenizer.FromDirectory(_dir);
        Assert.Equal([5, 6, 7, 1], t.EncodeIdsNoSpecial("Héllo ab aaaaaa"));
        Assert.Equal(6, t.Encode("a a a a").Length); // the truncation block is not applied by default
    }

    [Fact]
    public void UnsupportedComponentsAreRejected()
    {
        WriteVocab("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
        Write("tokenizer.json", """{ "model": {"type": "BPE"} }""");
        var ex = Assert.Throws<TokenizerException>(() => WordPieceTokenizer.FromDirectory(_dir));
        Assert.Contains("BPE", ex.Message);
    }

    [Fact]
    public void FromVocabFileWorks()
    {
        WriteVocab(EncodingTests.Vocab());
        var t = WordPieceTokenizer.FromVocabFile(Path.Combine(_dir, "vocab.txt"));
        Assert.Equal([2, 5, 7, 7, 1, 3], t.Encode("abb c").Ids);
        Assert.Equal(["a", "##b", "##b", "##b"], t.TokenizeToStrings("abbb"));
    }
}
