using System.Text;
using System.Text.Json.Nodes;
using NativeTransformer.Evaluation;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Tokenization.Oracle;

/// <summary>
/// <see cref="ITokenizer.Decode"/> against Hugging Face's Rust tokenizers' <c>decode</c>, for every distinct
/// tokenizer.json of ../shared/models (WordPiece for the BERT family, byte-level BPE for RoBERTa, Unigram with Metaspace
/// for XLM-R, ALBERT-spm and T5): the ids of SST-2 dev sentences and of accented / CJK / emoji text, encoded with and
/// without special tokens, then decoded with and without skip_special_tokens; and seeded random id sequences over the
/// whole vocabulary (continuation pieces first, byte tokens splitting a character, special tokens in the middle),
/// which real text does not produce. Strings must be equal exactly. The decoders no shared model uses (Replace,
/// ByteFallback, Fuse, Strip, BPEDecoder, none) are checked the same way on copies of those files with the decoder
/// swapped.
/// </summary>
public sealed class TokenizerDecodeOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string> Folders() => OracleTokenizerFolders.FolderNames();

    private const int SentenceCount = 300, RandomSequences = 300, RandomSeed = 20261206;

    /// <summary>Text the SST-2 sentences (lowercased ASCII) lack.</summary>
    internal static readonly string[] Extra =
    [
        "Crème brûlée in São Paulo, naïve café — déjà vu!",
        "ÉCOLE Ångström Øresund Łódź İstanbul ß",
        "東京タワーは高い。我爱北京天安门。한국어 문장입니다.",
        "Emoji: 😀👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ done.",
        "It's   spaced\tout\nover lines , isn't it ? I 'm sure they 're n't .",
        "Mixed 東京 and café with 😀 and [MASK] <mask> </s> literal tokens.",
        "x ## y ##z ▁ Ġ <0x41> </w>",
        "   leading and trailing spaces   ",
        "",
    ];

    [SkippableTheory]
    [MemberData(nameof(Folders))]
    public void Decode_matches_HuggingFace(string folder)
    {
        var (ours, theirs, group) = TokenizerOracleTests.Load(folder);
        using var _ = theirs;
        int skipMatters = Compare(ours, theirs, $"{group.Folder} ({ours.Kind})");
        // The oracle's two modes really differ (its no-skip copy keeps the special tokens): every sentence encoded with
        // special tokens at least.
        Assert.True(skipMatters >= SentenceCount, $"skip_special_tokens changed HF's output for only {skipMatters} sequences");
    }

    /// <summary>Decoder variants: (folder whose files are copied, the "decoder" JSON put in its tokenizer.json).</summary>
    public static TheoryData<string, string> DecoderVariants() => new()
    {
        // Llama-style SentencePiece decoding: ▁ to space, <0xHH> byte pieces, fused, one leading space stripped.
        { "xlmr-mini-sst2", """{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}""" },
        { "xlmr-mini-sst2", """{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true}""" },
        // Strip only with "start" and on non-empty tokens: HF (0.22.2) panics on a token shorter than what start and
        // stop together cut ("▁" with start 1, stop 1: slice 1..0) and on an empty token with "stop" (the ByteLevel
        // output of no ids); ours gives "" in both cases.
        { "xlmr-mini-sst2", """{"type":"Sequence","decoders":[{"type":"Strip","content":"▁","start":2,"stop":0},{"type":"Replace","pattern":{"Regex":"[a-e]+"},"content":"-"}]}""" },
        { "albert-mini-sst2", "null" },
        { "albert-mini-sst2", """{"type":"WordPiece","prefix":"##","cleanup":false}""" },
        { "albert-mini-sst2", """{"type":"BPEDecoder","suffix":"s"}""" },
        { "roberta-mini-sst2", """{"type":"Sequence","decoders":[{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},{"type":"Replace","pattern":{"String":" "},"content":"_"}]}""" },
    };

    [SkippableTheory]
    [MemberData(nameof(DecoderVariants))]
    public void Swapped_decoders_match_HuggingFace(string folder, string decoderJson)
    {
        var dir = Directory.CreateTempSubdirectory("nt-decode-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(TestPaths.Model(folder)))
                if (!f.EndsWith(".safetensors", StringComparison.Ordinal)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            string tj = Path.Combine(dir, "tokenizer.json");
            var root = JsonNode.Parse(File.ReadAllText(tj))!.AsObject();
            root["decoder"] = JsonNode.Parse(decoderJson);
            AddByteTokens(root);
            File.WriteAllText(tj, root.ToJsonString());
            var ours = TokenizerLoader.FromDirectory(dir);
            using var theirs = new HfOracleTokenizer(tj);
            Compare(ours, theirs, $"{folder} with decoder {decoderJson}");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// Adds non-special added tokens "&lt;0xE6&gt;" "&lt;0x9D&gt;" "&lt;0xB1&gt;" (東 in UTF-8), "&lt;0xFF&gt;" (never valid) and
    /// "&lt;0x41&gt;" after the vocabulary, so that the random id sequences hold byte pieces for ByteFallback (none of the
    /// shared vocabularies has them) and added tokens that skip_special_tokens keeps.
    /// </summary>
    private static void AddByteTokens(JsonObject root)
    {
        var model = root["model"]!.AsObject();
        int next = model["vocab"] switch { JsonObject o => o.Count, JsonArray a => a.Count, _ => 0 };
        var added = root["added_tokens"] as JsonArray ?? [];
        foreach (var t in added) next = Math.Max(next, (int)t!["id"]! + 1);
        foreach (var b in new[] { "E6", "9D", "B1", "FF", "41" })
            added.Add(new JsonObject
            {
                ["id"] = next++, ["content"] = $"<0x{b}>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = false,
            });
        root["added_tokens"] = added;
    }

    /// <summary>Decodes the sentence and random id sequences with both tokenizers in both modes and asserts equality;
    /// returns on how many sequences skip_special_tokens changed HF's output.</summary>
    private int Compare(ITokenizer ours, HfOracleTokenizer theirs, string what)
    {
        var texts = TaskDataReader.ReadFile(EvalTask.Sst2, TestPaths.Data("sst2", "dev.tsv")).Select(e => e.Text).Take(SentenceCount)
            .Concat(Extra).ToList();
        var sequences = new List<int[]>();
        foreach (var t in texts)
        {
            sequences.Add(ours.Encode(t).Ids);
            sequences.Add(ours.EncodeIdsNoSpecial(t));
        }
        var rng = new Random(RandomSeed);
        for (int i = 0; i < RandomSequences; i++)
        {
            var ids = new int[1 + rng.Next(12)];
            for (int k = 0; k < ids.Length; k++)
                ids[k] = rng.Next(8) == 0 && ours.AddedTokens.Count > 0 ? ours.AddedTokens[rng.Next(ours.AddedTokens.Count)].Id : rng.Next(ours.VocabSize);
            sequences.Add(ids);
        }

        var failures = new StringBuilder();
        int compared = 0, failed = 0, skipMatters = 0;
        foreach (var ids in sequences)
        {
            if (theirs.Decode(ids, true) != theirs.Decode(ids, false)) skipMatters++;
            foreach (bool skip in new[] { true, false })
            {
                string expected = theirs.Decode(ids, skip);
                string actual = ours.Decode(ids, skip);
                compared++;
                if (expected == actual) continue;
                if (++failed <= 10)
                    failures.AppendLine($"  skip={skip} ids=[{string.Join(",", ids)}]\n    HF:   «{Escape(expected)}»\n    ours: «{Escape(actual)}»");
            }
        }
        output.WriteLine($"{what}: {compared} decodes compared, {failed} differ");
        Assert.True(failed == 0, $"{what}: {failed} of {compared} decodes differ from HF tokenizers:\n{failures}");
        Assert.True(compared >= 2 * (2 * SentenceCount + RandomSequences));
        return skipMatters;
    }

    private static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (var r in s.EnumerateRunes())
            sb.Append(r.Value < 0x20 || r.Value is 0xFFFD ? $"\\u{r.Value:X4}" : r.ToString());
        return sb.ToString();
    }
}
