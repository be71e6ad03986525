using System.Diagnostics;
using System.Text.Json.Nodes;
using NativeTransformer.Tests.Weights;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tokenization;

/// <summary>
/// Byte-level BPE (RoBERTa's real roberta-base files in roberta-mini-sst2): ids against HF's Rust tokenizers
/// (Tokenizers.DotNet, native, test-only oracle) on every SST-2 sentence, offsets, the legacy vocab.json + merges.txt
/// folder, and typed errors for bad files.
/// </summary>
public sealed class ByteLevelBpeTests(ITestOutputHelper output)
{
    private static string Dir => TestPaths.Model("roberta-mini-sst2");
    private static readonly Lazy<ITokenizer> Roberta = new(() => TokenizerLoader.FromDirectory(Dir));

    /// <summary>Inputs beyond SST-2: spaces, newlines, contractions, accents, CJK, emoji, added tokens with lstrip.</summary>
    private static readonly string[] Extra =
    [
        "Hello world", " Hello  world ", "a\n\nb\tc  \n d", "I'm sure they'll say it's 'fine' ... we've won, haven't we?",
        "Il était une fois à Noël", "日本語のテキスト、中文。", "emoji 🤗🚀 and 👩‍👩‍👧", "numbers 12345 3.14 1,000,000",
        "Hello <mask>!", "Hello<mask> there", "<s>inside</s> text <pad> and <unk>", "   ", "x", "''''", "don'T DON'T",
        "\u00a0nbsp\u2003em space", "tab\there", "mixed123abc", "a'sb", "\u0301combining", "e\u0301",
    ];

    private static IEnumerable<string> Sst2Sentences() =>
        new[] { "train.tsv", "dev.tsv" }.SelectMany(f => File.ReadLines(TestPaths.Data("sst2", f)).Skip(1))
            .Select(l => l[..l.LastIndexOf('\t')]);

    [Fact]
    public void LoaderPicksByteLevelBpe()
    {
        var t = Roberta.Value;
        Assert.Equal("BPE (byte-level)", t.Kind);
        Assert.Equal(50265, t.VocabSize);
        Assert.Equal(1, t.PadId);
        Assert.Equal("<mask>", t.MaskToken);
        Assert.Equal(50264, t.MaskId);
        Assert.Equal(512, t.ModelMaxLength);
        Assert.Equal(2, t.SpecialTokenCount(false));
        Assert.Equal(4, t.SpecialTokenCount(true));
    }

    [Fact]
    public void IdsMatchHuggingFaceRustTokenizersOnSst2()
    {
        // The oracle applies tokenizer.json's truncation/padding blocks: a copy with them nulled.
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "tokenizer.json")))!;
        json["truncation"] = null;
        json["padding"] = null;
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("tokenizer.json"), json.ToJsonString());
        var oracle = new Tokenizers.DotNet.Tokenizer(vocabPath: tmp.File("tokenizer.json"));
        var ours = Roberta.Value;
        int n = 0, diffs = 0;
        foreach (var text in Sst2Sentences().Concat(Extra))
        {
            n++;
            var expected = oracle.Encode(text).Select(u => (int)u).ToArray();
            var got = ours.Encode(text).Ids;
            if (!expected.SequenceEqual(got))
            {
                if (diffs++ < 10) output.WriteLine($"DIFF '{text}': hf [{string.Join(",", expected)}] ours [{string.Join(",", got)}]");
            }
        }
        output.WriteLine($"{n} inputs, {diffs} differences");
        Assert.True(n > 67000);
        Assert.Equal(0, diffs);
    }

    [Fact]
    public void TokensAndOffsetsFollowHf()
    {
        var e = Roberta.Value.Encode("Hello world");
        Assert.Equal(["<s>", "Hello", "Ġworld", "</s>"], e.Tokens);
        Assert.Equal([0, 31414, 232, 2], e.Ids);
        // trim_offsets: the space of "Ġworld" is outside its offsets.
        Assert.Equal([(0, 0), (0, 5), (6, 11), (0, 0)], e.Offsets);
        // <mask> has lstrip: it swallows the space before it.
        var m = Roberta.Value.Encode("Hello <mask>!");
        Assert.Equal(["<s>", "Hello", "<mask>", "!", "</s>"], m.Tokens);
        Assert.Equal((5, 12), m.Offsets[2]);
        // A character split over several tokens: each token gets the whole character's range.
        string s = "a 🤗";
        var u = Roberta.Value.Encode(s);
        for (int i = 1; i < u.Length - 1; i++)
            Assert.True(u.Offsets[i].Start >= 0 && u.Offsets[i].End <= s.Length && u.Offsets[i].Start <= u.Offsets[i].End);
        Assert.Equal(s.Length, u.Offsets[^2].End);
    }

    [Fact]
    public void PairTemplateAndTypeIds()
    {
        var e = Roberta.Value.Encode("the movie", "a film");
        Assert.Equal(["<s>", "the", "Ġmovie", "</s>", "</s>", "a", "Ġfilm", "</s>"], e.Tokens);
        Assert.All(e.TypeIds, t => Assert.Equal(0, t));
        Assert.Equal([-1, 0, 0, -1, -1, 1, 1, -1], e.SequenceIds);
    }

    [Fact]
    public void LegacyVocabJsonAndMergesGiveTheSameIds()
    {
        using var tmp = new TempDir();
        foreach (var f in new[] { "vocab.json", "merges.txt", "tokenizer_config.json" })
            File.Copy(Path.Combine(Dir, f), tmp.File(f));
        var legacy = TokenizerLoader.FromDirectory(tmp.Path);
        foreach (var text in Sst2Sentences().Take(2000).Concat(Extra))
            Assert.Equal(Roberta.Value.Encode(text, "and a pair").Ids, legacy.Encode(text, "and a pair").Ids);
    }

    [Fact]
    public void IdToTokenOutsideTheVocabularyIsATypedError()
    {
        Assert.Equal("Ġworld", Roberta.Value.IdToToken(232));
        Assert.Equal("<mask>", Roberta.Value.IdToToken(50264));
        Assert.Throws<InputException>(() => Roberta.Value.IdToToken(50265));
        Assert.Throws<InputException>(() => Roberta.Value.IdToToken(-1));
    }

    private static TempDir SmallBpeFolder(Action<JsonObject>? edit = null)
    {
        var tmp = new TempDir();
        File.WriteAllText(tmp.File("tokenizer.json"), SmallTokenizerJson(edit));
        return tmp;
    }

    /// <summary>roberta's tokenizer.json cut to the 256 byte tokens, the specials and the first 300 merges whose parts exist.</summary>
    internal static string SmallTokenizerJson(Action<JsonObject>? edit = null)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "tokenizer.json")))!.AsObject();
        var vocab = json["model"]!["vocab"]!.AsObject();
        var keep = new Dictionary<string, int>();
        foreach (var s in new[] { "<s>", "<pad>", "</s>", "<unk>" }) keep[s] = keep.Count;
        for (int b = 0; b < 256; b++) keep.TryAdd(ByteLevel.ByteToChar[b].ToString(), keep.Count);
        var merges = new JsonArray();
        foreach (var m in json["model"]!["merges"]!.AsArray())
        {
            string line = m is JsonArray a ? a[0]!.GetValue<string>() + " " + a[1]!.GetValue<string>() : m!.GetValue<string>();
            var parts = line.Split(' ');
            if (keep.ContainsKey(parts[0]) && keep.ContainsKey(parts[1]))
            {
                keep.TryAdd(parts[0] + parts[1], keep.Count);
                merges.Add(line);
                if (merges.Count == 300) break;
            }
        }
        keep["<mask>"] = keep.Count;
        var small = new JsonObject();
        foreach (var (k, v) in keep) small[k] = v;
        json["model"]!["vocab"] = small;
        json["model"]!["merges"] = merges;
        json["added_tokens"]![4]!["id"] = keep["<mask>"];
        edit?.Invoke(json);
        return json.ToJsonString();
    }

    [Fact]
    public void SmallFolderLoads()
    {
        using var tmp = SmallBpeFolder();
        var t = TokenizerLoader.FromDirectory(tmp.Path);
        Assert.Equal("BPE (byte-level)", t.Kind);
        Assert.Equal(t.EncodeIdsNoSpecial("the movie").Length, t.TokenizeToStrings("the movie").Length);
    }

    public static IEnumerable<object[]> BadTokenizerJson() =>
    [
        ["normalizer", (Action<JsonObject>)(j => j["normalizer"] = new JsonObject { ["type"] = "Frobnicate" }), "Frobnicate"],
        ["pre_tokenizer", (Action<JsonObject>)(j => j["pre_tokenizer"] = new JsonObject { ["type"] = "Whirl" }), "Whirl"],
        ["model", (Action<JsonObject>)(j => j["model"]!["type"] = "Mystery"), "Mystery"],
        ["post_processor", (Action<JsonObject>)(j => j["post_processor"] = new JsonObject { ["type"] = "Glue" }), "Glue"],
        ["decoder", (Action<JsonObject>)(j => j["decoder"] = new JsonObject { ["type"] = "Unzip" }), "Unzip"],
        ["vocab not object", (Action<JsonObject>)(j => j["model"]!["vocab"] = new JsonArray(1, 2)), "model.vocab"],
        ["merge outside vocab", (Action<JsonObject>)(j => j["model"]!["merges"]!.AsArray().Add("zzzq qqqz")), "outside the vocabulary"],
        ["malformed merge", (Action<JsonObject>)(j => j["model"]!["merges"]!.AsArray().Add("onlyone")), "two tokens"],
        ["vocab id out of range", (Action<JsonObject>)(j => j["model"]!["vocab"]!["Ġ"] = 999999), "ids must be"],
        ["added token id huge", (Action<JsonObject>)(j => j["added_tokens"]![4]!["id"] = int.MaxValue), "<mask>"],
        ["model type unknown", (Action<JsonObject>)(j => j["model"]!["type"] = "WordPieceX"), "unsupported model type 'WordPieceX'"],
    ];

    [Theory]
    [MemberData(nameof(BadTokenizerJson))]
    public void BadTokenizerJsonIsATypedError(string what, Action<JsonObject> edit, string mentions)
    {
        using var tmp = SmallBpeFolder(edit);
        var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.FromDirectory(tmp.Path));
        Assert.Contains(mentions, e.Message);
        Assert.Contains(tmp.Path, e.Message);
        output.WriteLine($"{what}: {e.Message}");
    }

    [Theory]
    [InlineData("[1, 2, 3]", "#version: 0.2\nĠ t\n", "JSON object")]
    [InlineData("\"text\"", "#version: 0.2\nĠ t\n", "JSON object")]
    [InlineData(null, "#version: 0.2\nĠ t x\n", "two tokens")]
    [InlineData(null, "#version: 0.2\nĠt\n", "two tokens")]
    [InlineData(null, "#version: 0.2\nĠ zzzq\n", "outside the vocabulary")]
    public void BadLegacyFilesAreTypedErrors(string? vocabJson, string merges, string mentions)
    {
        using var tmp = new TempDir();
        if (vocabJson != null) File.WriteAllText(tmp.File("vocab.json"), vocabJson);
        else File.Copy(Path.Combine(Dir, "vocab.json"), tmp.File("vocab.json"));
        File.WriteAllText(tmp.File("merges.txt"), merges);
        var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.FromDirectory(tmp.Path));
        Assert.Contains(mentions, e.Message);
    }

    [Fact]
    public void MissingMergesIsATypedError()
    {
        using var tmp = new TempDir();
        File.Copy(Path.Combine(Dir, "vocab.json"), tmp.File("vocab.json"));
        Assert.Contains("merges.txt", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromDirectory(tmp.Path)).Message);
    }

    /// <summary>Opt-in (NT_BENCH_TOKENIZERS=1): SST-2 train, one thread, ours against Microsoft.ML.Tokenizers' own
    /// byte-level BpeTokenizer pipeline (RoBERTa pre-tokenizer), ids only.</summary>
    [Fact]
    public void SpeedAgainstMlTokenizers()
    {
        if (Environment.GetEnvironmentVariable("NT_BENCH_TOKENIZERS") != "1") return;
        var sentences = File.ReadLines(TestPaths.Data("sst2", "train.tsv")).Skip(1).Select(l => l[..l.LastIndexOf('\t')]).ToArray();
        var ml = Microsoft.ML.Tokenizers.BpeTokenizer.Create(new Microsoft.ML.Tokenizers.BpeOptions(Path.Combine(Dir, "vocab.json"), Path.Combine(Dir, "merges.txt"))
        {
            ByteLevel = true,
            PreTokenizer = Microsoft.ML.Tokenizers.RobertaPreTokenizer.Instance,
        });
        var ours = Roberta.Value;
        // Interleaved rounds, best of each: the machine is shared, so a slow spell hits both sides alike.
        Func<string, int>[] runs = [s => ml.EncodeToIds(s).Count, s => ours.EncodeIdsNoSpecial(s).Length, s => ours.Encode(s).Length];
        var best = new double[runs.Length];
        Array.Fill(best, double.MaxValue);
        foreach (var f in runs) foreach (var s in sentences.Take(5000)) f(s);
        for (int round = 0; round < 5; round++)
            for (int k = 0; k < runs.Length; k++)
            {
                var sw = Stopwatch.StartNew();
                long sum = 0;
                foreach (var s in sentences) sum += runs[k](s);
                best[k] = Math.Min(best[k], sw.Elapsed.TotalSeconds);
                Assert.True(sum > 0);
            }
        double mlRate = sentences.Length / best[0], ourRate = sentences.Length / best[1], ourFull = sentences.Length / best[2];
        output.WriteLine($"SST-2 train {sentences.Length} sentences, one thread: ML.Tokenizers BpeTokenizer {mlRate:F0}/s, ours ids {ourRate:F0}/s, ours Encode (tokens, offsets, template) {ourFull:F0}/s");
    }
}
