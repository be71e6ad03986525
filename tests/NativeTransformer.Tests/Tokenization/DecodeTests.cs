using NativeTransformer.Tokenization;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// <see cref="ITokenizer.Decode"/> beyond the oracle comparison (Oracle/TokenizerDecodeOracleTests): ids outside the
/// vocabulary, legacy folders without tokenizer.json (their family's default decoder), and round trips.
/// </summary>
public sealed class DecodeTests
{
    public static TheoryData<string> Models() => new() { "bert-mini-sst2", "roberta-mini-sst2", "xlmr-mini-sst2", "albert-spm-mini-sst2" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Out_of_range_ids_are_an_InputException_naming_the_id(string model)
    {
        var tok = TokenizerLoader.FromDirectory(TestPaths.Model(model));
        foreach (int bad in new[] { -1, tok.VocabSize, int.MaxValue, int.MinValue })
        {
            var e = Assert.Throws<InputException>(() => tok.Decode([5, bad, 6]));
            Assert.Contains($"token id {bad} ", e.Message);
            Assert.Contains("position 1", e.Message);
        }
        Assert.Equal("", tok.Decode([]));
        tok.Decode([tok.VocabSize - 1]); // the last id is valid
    }

    [Theory]
    // HF's WordPiece cleanup runs per token, so "it ' s" keeps its spaces (checked against HF by the oracle test).
    [InlineData("bert-mini-sst2", "Hello, World! it's a test of decoding.", "hello, world! it ' s a test of decoding.")]
    [InlineData("roberta-mini-sst2", "Hello, wörld! 東京 😀 it's  spaced.", "Hello, wörld! 東京 😀 it's  spaced.")]
    [InlineData("xlmr-mini-sst2", "Hello world, it's a test.", "Hello world, it's a test.")]
    public void Round_trip(string model, string text, string expected)
    {
        var tok = TokenizerLoader.FromDirectory(TestPaths.Model(model));
        var ids = tok.Encode(text).Ids;
        Assert.Equal(expected, tok.Decode(ids));
        string kept = tok.Decode(ids, skipSpecialTokens: false);
        Assert.Contains(tok.IdToToken(ids[^1]), kept); // the closing special token is there
    }

    /// <summary>A folder without tokenizer.json decodes as the tokenizer.json transformers would write for it.</summary>
    [Theory]
    [InlineData("bert-mini-sst2", new[] { "vocab.txt", "tokenizer_config.json", "special_tokens_map.json" })]
    [InlineData("roberta-mini-sst2", new[] { "vocab.json", "merges.txt", "tokenizer_config.json" })]
    [InlineData("xlmr-mini-sst2", new[] { "sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json" })]
    [InlineData("albert-spm-mini-sst2", new[] { "spiece.model", "tokenizer_config.json", "special_tokens_map.json" })]
    public void Legacy_folders_decode_like_their_tokenizer_json(string model, string[] files)
    {
        var full = TokenizerLoader.FromDirectory(TestPaths.Model(model));
        var dir = Directory.CreateTempSubdirectory("nt-decode-legacy-").FullName;
        try
        {
            foreach (var f in files) File.Copy(Path.Combine(TestPaths.Model(model), f), Path.Combine(dir, f));
            var legacy = TokenizerLoader.FromDirectory(dir);
            var rng = new Random(7);
            var texts = Oracle.TokenizerDecodeOracleTests.Extra.Concat(["it 's a charming and often affecting journey . ", "don't stop"]);
            foreach (var text in texts)
            {
                var ids = full.Encode(text).Ids;
                Assert.Equal(full.Decode(ids), legacy.Decode(ids));
                Assert.Equal(full.Decode(ids, false), legacy.Decode(ids, false));
            }
            for (int i = 0; i < 200; i++)
            {
                var ids = Enumerable.Range(0, 1 + rng.Next(10)).Select(_ => rng.Next(full.VocabSize)).ToArray();
                Assert.Equal(full.Decode(ids), legacy.Decode(ids));
                Assert.Equal(full.Decode(ids, false), legacy.Decode(ids, false));
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
