using System.Text.Json.Nodes;
using NativeTransformer.Tests.Weights;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// SentencePiece (Unigram) tokenizers: the legacy .model path against tokenizer.json, HF's Rust tokenizers as an
/// oracle on real sentences, Unigram details (fused unknowns, offsets) and malformed files.
/// </summary>
public class SentencePieceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => new() { "xlmr-mini-sst2", "albert-spm-mini-sst2", "t5-encoder-mini-sst2" };

    internal static List<string> Sentences(bool withPairs)
    {
        var list = new List<string>();
        foreach (var line in File.ReadLines(TestPaths.Data("sst2", "dev.tsv")).Skip(1))
            list.Add(line.Split('\t')[0]);
        if (!withPairs) return list;
        foreach (var line in File.ReadLines(TestPaths.Data("stsbenchmark", "sts-dev.csv")))
        {
            var f = line.Split('\t');
            if (f.Length >= 7) { list.Add(f[5]); list.Add(f[6]); }
        }
        foreach (var line in File.ReadLines(TestPaths.Data("mrpc", "dev.tsv")).Skip(1))
        {
            var f = line.Split('\t');
            if (f.Length >= 5) { list.Add(f[3]); list.Add(f[4]); }
        }
        return list;
    }

    /// <summary>The folder without tokenizer.json: spiece.model / sentencepiece.bpe.model + tokenizer_config.json.</summary>
    private static TempDir LegacyCopy(string model)
    {
        var dir = new TempDir();
        foreach (var f in Directory.GetFiles(TestPaths.Model(model)))
        {
            string name = Path.GetFileName(f);
            if (name.EndsWith(".model", StringComparison.Ordinal) || name is "tokenizer_config.json" or "special_tokens_map.json")
                File.Copy(f, dir.File(name));
        }
        return dir;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void LegacyModelFileGivesTheSameIdsAsTokenizerJson(string model)
    {
        var fromJson = TokenizerLoader.FromDirectory(TestPaths.Model(model));
        using var dir = LegacyCopy(model);
        var fromModel = TokenizerLoader.FromDirectory(dir.Path);
        Assert.Equal(fromJson.Kind, fromModel.Kind);
        Assert.Equal(fromJson.VocabSize, fromModel.VocabSize);
        Assert.Equal(fromJson.PadId, fromModel.PadId);
        Assert.Equal(fromJson.MaskId, fromModel.MaskId);
        var sentences = Sentences(withPairs: false);
        Assert.True(sentences.Count > 800);
        for (int i = 0; i < sentences.Count; i++)
        {
            string pair = sentences[(i + 1) % sentences.Count];
            Assert.Equal(fromJson.Encode(sentences[i], pair).Ids, fromModel.Encode(sentences[i], pair).Ids);
        }
        foreach (var odd in new[] { "  Café  naïve\t``quoted''  ", "我喜欢 🔥🔥 x", "ＡＢＣ ﬁ ½ \u00A0!", "<mask> [MASK] </s>" })
            Assert.Equal(fromJson.EncodeIdsNoSpecial(odd), fromModel.EncodeIdsNoSpecial(odd));
    }

    /// <summary>HF's Rust tokenizers on the same tokenizer.json (truncation and padding nulled), on SST-2 dev,
    /// STS-B dev and MRPC dev sentences: every id sequence equal.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void MatchesHuggingFaceRustTokenizers(string model)
    {
        using var dir = new TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Model(model), "tokenizer.json")))!;
        json["truncation"] = null;
        json["padding"] = null;
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var hf = new Tokenizers.DotNet.Tokenizer(vocabPath: dir.File("tokenizer.json"));
        var ours = TokenizerLoader.FromDirectory(TestPaths.Model(model));
        var sentences = Sentences(withPairs: true);
        sentences.AddRange(["Café naïve résumé", "  two  spaces\tand\ttabs\n", "ＦＵＬＬ ｗｉｄｔｈ ﬁ ½ ™", "我喜欢这部电影", "🔥🔥 😍!", "e\u0301 a\u0308\u0301"]);
        int differences = 0;
        foreach (var s in sentences)
        {
            var expected = hf.Encode(s).Select(v => (int)v).ToArray();
            var actual = ours.Encode(s).Ids;
            if (!expected.SequenceEqual(actual))
            {
                if (differences++ < 10) output.WriteLine($"{model}: '{s}'\n  hf:   {string.Join(' ', expected)}\n  ours: {string.Join(' ', actual)}");
            }
        }
        output.WriteLine($"{model}: {sentences.Count} sentences, {differences} differences");
        Assert.Equal(0, differences);
    }

    /// <summary>Minimal inputs reduced from random-Unicode differences with HF's Rust tokenizers (ids without special
    /// tokens, as HF gives them; also re-checked against HF live). Causes: the Precompiled normalizer looks up whole
    /// UAX #29 grapheme clusters under 6 UTF-8 bytes, so a cluster boundary decides whether a mark survives a
    /// replaced space (U+2028/U+2029 are Control, U+200C and tag characters are Extend, private use is neither); HF's
    /// NFKD and StripAccents use Unicode 9.0 data.</summary>
    [Theory]
    [InlineData("xlmr-mini-sst2", "\u2028\u0300", new[] { 21, 3 })]                     // U+2028 ends its cluster: the mark stays
    [InlineData("xlmr-mini-sst2", "\u2029\u0301", new[] { 21, 7978 })]
    [InlineData("xlmr-mini-sst2", "\u00C6\u1C8C\u0369\u013E\u023E\u2028\u0361s\u3108\U0004B74E", new[] { 21, 3, 21, 3, 4, 3 })]
    [InlineData("xlmr-mini-sst2", "\u200C\u030E", new int[0])]                          // ZWNJ + mark: one cluster, replaced by a space
    [InlineData("xlmr-mini-sst2", "\u0132\u200Co", new[] { 158, 2699, 89 })]           // the ZWNJ goes with the IJ it extends
    [InlineData("xlmr-mini-sst2", "\u00A0\u200D\u200C", new[] { 21, 3 })]             // 8 bytes: looked up per code point
    [InlineData("xlmr-mini-sst2", "E\u030F\U000E0020", new[] { 320, 3 })]              // a tag character extends the cluster past 6 bytes
    [InlineData("xlmr-mini-sst2", "\U000F6C54\u0344\u0350", new[] { 21, 3, 7978, 3 })] // private use is not Control
    [InlineData("t5-encoder-mini-sst2", "\uE000\u200D\u0318", new[] { 3, 2, 3, 2 })]
    [InlineData("t5-encoder-mini-sst2", "\u200C\u0332", new int[0])]
    [InlineData("albert-spm-mini-sst2", "\uA7F2", new[] { 13, 1 })]                      // Unicode 14: no NFKD in 9.0
    [InlineData("albert-spm-mini-sst2", "\u1CF3", new int[0])]                           // Mc in 9.0 (Lo later): StripAccents drops it
    public void RandomUnicodeRegressionsMatchHuggingFace(string model, string text, int[] expected)
    {
        var ours = TokenizerLoader.FromDirectory(TestPaths.Model(model));
        Assert.Equal(expected, ours.EncodeIdsNoSpecial(text));
        using var hf = new Oracle.HfOracleTokenizer(Path.Combine(TestPaths.Model(model), "tokenizer.json"));
        Assert.Equal(expected, hf.EncodeNoSpecial(text));
    }

    [Fact]
    public void RunsOfUnknownCharactersAreOneUnknownTokenWithOriginalOffsets()
    {
        var tok = TokenizerLoader.FromDirectory(TestPaths.Model("xlmr-mini-sst2"));
        var e = tok.Encode("ab 我喜欢 cd");
        int unk = Array.IndexOf(e.Tokens, "<unk>");
        Assert.True(unk > 0);
        Assert.Equal(1, e.Tokens.Count(t => t == "<unk>"));
        Assert.Equal((3, 6), e.Offsets[unk]);
        string text = "Héllo  wörld";
        var enc = tok.Encode(text);
        foreach (var (s, end) in enc.Offsets) Assert.InRange(end, s, text.Length);
        Assert.Equal(text.Length, enc.Offsets[^2].End); // the last piece before </s> ends with the text
        Assert.Equal((0, 0), enc.Offsets[0]);
    }

    [Fact]
    public void SentencePieceBpeModelsAreRefused()
    {
        using var dir = LegacyCopy("t5-encoder-mini-sst2");
        var bytes = File.ReadAllBytes(dir.File("spiece.model"));
        // Append a trainer_spec (field 2) holding model_type (field 3) = BPE (2); the last occurrence wins in protobuf.
        File.WriteAllBytes(dir.File("spiece.model"), [.. bytes, 0x12, 0x02, 0x18, 0x02]);
        var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.FromDirectory(dir.Path));
        Assert.Contains("model_type BPE", e.Message);
        Assert.Contains("spiece.model", e.Message);
    }

    [Fact]
    public void CorruptOrTruncatedModelFilesAreTokenizerExceptions()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.Model("albert-spm-mini-sst2"), "spiece.model"));
        foreach (int cut in new[] { 0, 1, 2, 5, 100, bytes.Length / 2, bytes.Length - 1 })
        {
            var e = Assert.Throws<TokenizerException>(() => SentencePieceModelFile.Parse(bytes.AsSpan(0, cut), "spiece.model"));
            Assert.Contains("spiece.model", e.Message);
        }
        Assert.Throws<TokenizerException>(() => SentencePieceModelFile.Parse("not a model at all, just text"u8, "x.model"));
        Assert.Throws<TokenizerException>(() => SentencePieceModelFile.Parse([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "x.model"));
        Assert.Throws<TokenizerException>(() => SentencePieceModelFile.Parse([0x0B, 0x00], "x.model")); // group wire type
    }

    [Fact]
    public void GarbageCharsMapsNeverCrash()
    {
        Assert.Throws<TokenizerException>(() => PrecompiledCharsMap.FromBase64("not base64!", "t.json"));
        Assert.Throws<TokenizerException>(() => PrecompiledCharsMap.Parse([1, 2], "t.json"));
        Assert.Throws<TokenizerException>(() => PrecompiledCharsMap.Parse([0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4], "t.json"));
        var random = new Random(7);
        var text = NormalizerSteps.FromOriginal("Ａbc ﬁ é 我 🔥\r\n x", 0, 16);
        for (int i = 0; i < 500; i++)
        {
            var blob = new byte[4 + 4 * random.Next(1, 64) + random.Next(0, 40)];
            random.NextBytes(blob);
            BitConverter.TryWriteBytes(blob, (uint)((blob.Length - 4) / 4 * 4 - (random.Next(2) * 4)));
            PrecompiledCharsMap map;
            try { map = PrecompiledCharsMap.Parse(blob, "t.json"); }
            catch (TokenizerException) { continue; }
            var result = map.Apply(text);
            Assert.True(result.Count >= 0);
        }
    }

    [Theory]
    [InlineData("""{"type":"Unigram","unk_id":0,"vocab":[["a",-1.0],["b"]]}""", "vocab entry 1")]
    [InlineData("""{"type":"Unigram","unk_id":0,"vocab":[["a","x"]]}""", "vocab entry 0")]
    [InlineData("""{"type":"Unigram","unk_id":0,"vocab":{"a":1}}""", "'vocab' must be an array")]
    [InlineData("""{"type":"Unigram","unk_id":5,"vocab":[["a",-1.0]]}""", "unk_id 5 is outside")]
    [InlineData("""{"type":"Unigram","unk_id":-1,"vocab":[["a",-1.0]]}""", "unk_id -1 is outside")]
    [InlineData("""{"type":"Unigram","unk_id":null,"vocab":[["a",-1.0]]}""", "'unk_id' must be an integer")]
    [InlineData("""{"type":"Unigram","unk_id":0,"vocab":[]}""", "vocabulary is empty")]
    public void MalformedUnigramModelsAreNamed(string model, string message)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(model);
        var e = Assert.Throws<TokenizerException>(() => SentencePieceSegmentModel.ReadUnigram(doc.RootElement, "tokenizer.json"));
        Assert.Contains(message, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Theory]
    [InlineData("normalizer", """{"type":"BertNormalizer"}""", "Precompiled, Replace")]
    [InlineData("normalizer", """{"type":"Precompiled","precompiled_charsmap":"%%%"}""", "base64")]
    [InlineData("normalizer", """{"type":"Replace","pattern":{"Regex":"("},"content":"x"}""", "invalid Regex")]
    [InlineData("pre_tokenizer", """{"type":"ByteLevel"}""", "Metaspace, WhitespaceSplit")]
    [InlineData("pre_tokenizer", """{"type":"Metaspace","replacement":"ab"}""", "one character")]
    [InlineData("pre_tokenizer", """{"type":"Metaspace","prepend_scheme":"sometimes"}""", "prepend_scheme")]
    public void UnknownOrMalformedComponentsNameTheSupportedOnes(string key, string component, string message)
    {
        using var dir = new TempDir();
        var src = TestPaths.Model("xlmr-mini-sst2");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(src, "tokenizer.json")))!;
        json[key] = JsonNode.Parse(component);
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.FromDirectory(dir.Path));
        Assert.Contains(message, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void UnicodeFormsMatchPythonOnKnownCases()
    {
        static string Form(string s, bool compat, bool compose) =>
            UnicodeForms.Apply(NormalizerSteps.FromOriginal(s, 0, s.Length), compat, compose).ToString();
        Assert.Equal("e\u0301", Form("é", false, false));
        Assert.Equal("é", Form("e\u0301", false, true));
        Assert.Equal("fi", Form("ﬁ", true, false));
        Assert.Equal("1⁄2", Form("½", true, true));
        Assert.Equal("\u1100\u1161\u11A8", Form("각", false, false));
        Assert.Equal("각", Form("\u1100\u1161\u11A8", false, true));
        Assert.Equal("ṩ", Form("s\u0323\u0307", false, true));
        Assert.Equal("ṩ", Form("s\u0307\u0323", false, true));
        Assert.Equal("A", Form("Ａ", true, true));
    }
}
