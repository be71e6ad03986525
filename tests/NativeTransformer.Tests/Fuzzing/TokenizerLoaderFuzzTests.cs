using System.Text;
using Encoding = System.Text.Encoding;
using System.Text.Json.Nodes;
using NativeTransformer.Tests.Weights;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Fuzzing;

/// <summary>
/// Fuzzes <see cref="WordPieceTokenizer.FromDirectory"/>: one of vocab.txt, tokenizer.json, tokenizer_config.json and
/// special_tokens_map.json of a small real tokenizer folder is mutated per input. Only <see cref="NativeTransformerException"/>
/// may escape, and a tokenizer that loads must produce valid encodings (<see cref="TokenizerInvariants"/>).
/// </summary>
public sealed class TokenizerLoaderFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Files = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];
    private static readonly string[] Keys =
    [
        "added_tokens", "id", "content", "lstrip", "rstrip", "normalized", "special", "single_word", "normalizer", "type", "clean_text",
        "handle_chinese_chars", "lowercase", "strip_accents", "pre_tokenizer", "model", "unk_token", "continuing_subword_prefix",
        "max_input_chars_per_word", "vocab", "post_processor", "single", "pair", "SpecialToken", "cls", "sep", "padding", "pad_token",
        "do_lower_case", "tokenize_chinese_chars", "model_max_length", "cls_token", "sep_token", "mask_token",
    ];
    private static readonly string[] Strings =
        ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "##", "", "BertNormalizer", "BertPreTokenizer", "WordPiece", "TemplateProcessing", "BertProcessing", "Lowercase", "BPE", "the", "\u00e9"];

    private static readonly JsonFuzz Json = new(Keys, Strings);
    private static readonly ByteMutator Bytes = new([.. ByteMutator.JsonTokens, .. Strings, .. Keys.Select(k => $"\"{k}\""), "\n", "\r\n", "\r", "\n\n", "[UNK]\n", "\uFEFF"]);

    /// <summary>The bert-tiny tokenizer cut down to its first 2000 vocabulary entries, so one load costs well under a millisecond.</summary>
    public static byte[][] SmallTokenizerFiles()
    {
        string dir = TestPaths.Model("bert-tiny-sst2");
        var vocab = File.ReadAllLines(Path.Combine(dir, "vocab.txt")).Take(2000).ToArray();
        var tj = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!;
        var small = new JsonObject();
        for (int i = 0; i < vocab.Length; i++) small[vocab[i]] = i;
        tj["model"]!["vocab"] = small;
        return
        [
            Encoding.UTF8.GetBytes(string.Join("\n", vocab) + "\n"),
            Encoding.UTF8.GetBytes(tj.ToJsonString()),
            File.ReadAllBytes(Path.Combine(dir, "tokenizer_config.json")),
            File.ReadAllBytes(Path.Combine(dir, "special_tokens_map.json")),
        ];
    }

    private sealed record Input(int File, byte[] Content, string Text);

    [Fact]
    public void FuzzTokenizerLoaders()
    {
        var originals = SmallTokenizerFiles();
        using var dir = new TempDir();
        for (int f = 0; f < Files.Length; f++) File.WriteAllBytes(dir.File(Files[f]), originals[f]);
        TokenizerInvariants.EncodeAndCheck(WordPieceTokenizer.FromDirectory(dir.Path), "the seed folder loads", null, 16);
        int loaded = 0;

        var result = FuzzRunner.Run("tokenizer-loader", FuzzBudget.For(ciInputs: 200, ciSeed: 31337),
            r =>
            {
                int f = r.Next(Files.Length);
                byte[] content = f > 0 && r.Next(2) == 0
                    ? Encoding.UTF8.GetBytes(Json.Mutate(Encoding.UTF8.GetString(originals[f]), r))
                    : Bytes.Mutate(originals[f], r);
                return new Input(f, content, UnicodeFuzz.RandomText(r, 200));
            },
            input =>
            {
                string path = dir.File(Files[input.File]);
                File.WriteAllBytes(path, input.Content);
                try
                {
                    var tok = WordPieceTokenizer.FromDirectory(dir.Path);
                    loaded++;
                    TokenizerInvariants.EncodeAndCheck(tok, input.Text, null, null);
                    TokenizerInvariants.EncodeAndCheck(tok, input.Text, "[MASK] pair", 8);
                }
                finally { File.WriteAllBytes(path, originals[input.File]); }
            },
            input => input.Content, ".txt", output);

        Assert.InRange(loaded, 1, result.Inputs - 1);
    }

    private static readonly string[] BpeFiles = ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json"];
    private static readonly JsonFuzz BpeJson = new(
        ["added_tokens", "id", "content", "lstrip", "rstrip", "normalized", "special", "single_word", "normalizer", "type", "pre_tokenizer",
         "add_prefix_space", "trim_offsets", "use_regex", "model", "vocab", "merges", "dropout", "unk_token", "post_processor", "sep", "cls",
         "single", "pair", "SpecialToken", "Sequence", "special_tokens", "ids", "tokens", "type_id", "processors", "decoder", "padding",
         "pad_id", "model_max_length", "mask_token", "pad_token", "tokenizer_class", "Ġ", "Ġt", "<s>"],
        ["<s>", "</s>", "<pad>", "<mask>", "<unk>", "ByteLevel", "BPE", "RobertaProcessing", "TemplateProcessing", "Sequence", "Unigram",
         "WordPiece", "Ġ", "Ġt", "Ġ t", "t", "", "RobertaTokenizer", "GPT2Tokenizer", "\u00e9"]);

    /// <summary>The byte-level BPE loader: roberta's tokenizer.json cut to 256 bytes + 300 merges (one folder), and the
    /// same as legacy vocab.json + merges.txt + tokenizer_config.json (another); one file mutated per input.</summary>
    [Fact]
    public void FuzzByteLevelBpeLoader()
    {
        string small = NativeTransformer.Tests.Tokenization.ByteLevelBpeTests.SmallTokenizerJson();
        var model = JsonNode.Parse(small)!["model"]!;
        byte[][] originals =
        [
            Encoding.UTF8.GetBytes(small),
            Encoding.UTF8.GetBytes(model["vocab"]!.ToJsonString()),
            Encoding.UTF8.GetBytes("#version: 0.2\n" + string.Join("\n", model["merges"]!.AsArray().Select(m => m!.GetValue<string>())) + "\n"),
            Encoding.UTF8.GetBytes("{\"model_max_length\": 512, \"tokenizer_class\": \"RobertaTokenizer\"}"),
        ];
        using var json = new TempDir();
        using var legacy = new TempDir();
        string PathOf(int f) => f == 0 ? json.File(BpeFiles[0]) : legacy.File(BpeFiles[f]);
        for (int f = 0; f < BpeFiles.Length; f++) File.WriteAllBytes(PathOf(f), originals[f]);
        TokenizerInvariants.EncodeAndCheckAny(TokenizerLoader.FromDirectory(json.Path), "the seed folder loads", null, 16);
        TokenizerInvariants.EncodeAndCheckAny(TokenizerLoader.FromDirectory(legacy.Path), "the seed folder loads", "<mask> pair", 16);
        int loaded = 0;
        var bytes = new ByteMutator([.. ByteMutator.JsonTokens, "Ġ", "Ġt", " ", "\n", "#version", "<s>", "<mask>", "\uFEFF"]);

        var result = FuzzRunner.Run("tokenizer-loader-bpe", FuzzBudget.For(ciInputs: 150, ciSeed: 4242),
            r =>
            {
                int f = r.Next(BpeFiles.Length);
                byte[] content = f != 2 && r.Next(2) == 0
                    ? Encoding.UTF8.GetBytes(BpeJson.Mutate(Encoding.UTF8.GetString(originals[f]), r))
                    : bytes.Mutate(originals[f], r);
                return new Input(f, content, UnicodeFuzz.RandomText(r, 200));
            },
            input =>
            {
                string path = PathOf(input.File);
                File.WriteAllBytes(path, input.Content);
                try
                {
                    var tok = TokenizerLoader.FromDirectory(input.File == 0 ? json.Path : legacy.Path);
                    loaded++;
                    TokenizerInvariants.EncodeAndCheckAny(tok, input.Text, null, null);
                    TokenizerInvariants.EncodeAndCheckAny(tok, input.Text, "<mask> pair", 8);
                }
                finally { File.WriteAllBytes(path, originals[input.File]); }
            },
            input => input.Content, ".txt", output);

        Assert.InRange(loaded, 1, result.Inputs - 1);
    }
}
