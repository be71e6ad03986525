using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>
/// Builds a byte-level BPE <see cref="PipelineTokenizer"/> (GPT-2, RoBERTa and their descendants) from tokenizer.json,
/// or from the legacy vocab.json + merges.txt. Special token names come from tokenizer_config.json /
/// special_tokens_map.json, else RoBERTa's defaults.
/// </summary>
internal static class ByteLevelBpeLoader
{
    public const string KindName = "BPE (byte-level)";
    private const string TJ = "tokenizer.json";

    /// <summary>From a parsed tokenizer.json whose model.type is BPE.</summary>
    public static PipelineTokenizer FromTokenizerJson(string directory, JsonElement root)
    {
        if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind != JsonValueKind.Null)
            throw new TokenizerException($"{TJ}: unsupported normalizer type '{TypeOf(norm)}' for byte-level BPE (supported: none, i.e. null)");
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
            throw new TokenizerException($"{TJ}: BPE without a ByteLevel pre_tokenizer is not supported (supported pre_tokenizer: ByteLevel)");
        if (Json.Str(pre, "type", TJ, "pre_tokenizer") is var pt && pt != "ByteLevel")
            throw new TokenizerException($"{TJ}: unsupported pre_tokenizer type '{pt}' for BPE (supported: ByteLevel)");
        bool addPrefixSpace = Json.Bool(pre, "add_prefix_space", true, TJ);
        bool useRegex = Json.Bool(pre, "use_regex", true, TJ);

        var model = root.GetProperty("model");
        if (model.TryGetProperty("dropout", out var d) && d.ValueKind == JsonValueKind.Number && d.GetDouble() != 0)
            throw new TokenizerException($"{TJ}: model.dropout {d.GetDouble()} is not supported (inference is deterministic: null or 0)");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (Json.Str(model, key, TJ, "model") is { Length: > 0 } v)
                throw new TokenizerException($"{TJ}: model.{key} '{v}' is not supported for byte-level BPE (must be empty)");
        foreach (var key in new[] { "byte_fallback", "ignore_merges" })
            if (Json.Bool(model, key, false, TJ))
                throw new TokenizerException($"{TJ}: model.{key} = true is not supported for byte-level BPE");
        if (!model.TryGetProperty("vocab", out var vocabEl))
            throw new TokenizerException($"{TJ}: model.vocab is missing");
        var vocab = ReadVocab(vocabEl, $"{TJ} model.vocab");
        if (!model.TryGetProperty("merges", out var mergesEl) || mergesEl.ValueKind != JsonValueKind.Array)
            throw new TokenizerException($"{TJ}: model.merges must be an array");
        var merges = new List<(string, string)>(mergesEl.GetArrayLength());
        int n = 0;
        foreach (var m in mergesEl.EnumerateArray())
        {
            n++;
            if (m.ValueKind == JsonValueKind.String) merges.Add(SplitMerge(m.GetString()!, $"{TJ} model.merges", n));
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw new TokenizerException($"{TJ}: model.merges[{n - 1}] must be \"a b\" or [\"a\", \"b\"]");
        }
        var segment = new ByteLevelBpeModel(vocab, merges, addPrefixSpace, useRegex, $"{TJ} model");
        var added = ReadAddedTokens(root, vocab);
        var post = root.TryGetProperty("post_processor", out var pp) ? PostProcessorJson.Parse(pp, TJ) : TemplatePostProcessor.None();
        int? padFromJson = root.TryGetProperty("padding", out var pad) && pad.ValueKind == JsonValueKind.Object
            && pad.TryGetProperty("pad_id", out var pid) && pid.ValueKind == JsonValueKind.Number && pid.TryGetInt32(out var p) ? p : null;
        return Build(directory, segment, added, _ => post, padFromJson, DecoderJson.Read(root));
    }

    /// <summary>From vocab.json + merges.txt (no tokenizer.json): add_prefix_space false and the post-processor of
    /// tokenizer_config.json's tokenizer_class (RoBERTa's when it names none).</summary>
    public static PipelineTokenizer FromVocabAndMerges(string directory)
    {
        string vocabPath = Path.Combine(directory, "vocab.json");
        string mergesPath = Path.Combine(directory, "merges.txt");
        Dictionary<string, int> vocab;
        using (var doc = TokenizerConfigLoader.Open(directory, "vocab.json") ?? throw new TokenizerException($"vocab.json not found ({vocabPath})"))
            vocab = ReadVocab(doc.RootElement, "vocab.json");
        if (!File.Exists(mergesPath)) throw new TokenizerException($"merges.txt not found next to vocab.json ({mergesPath})");
        if (new FileInfo(mergesPath).Length > TokenizerConfigLoader.MaxJsonBytes)
            throw new TokenizerException($"merges.txt is over the {TokenizerConfigLoader.MaxJsonBytes}-byte limit ({mergesPath})");
        var merges = new List<(string, string)>();
        int lineNo = 0;
        try
        {
            foreach (var raw in File.ReadLines(mergesPath, new System.Text.UTF8Encoding(false, true)))
            {
                lineNo++;
                string line = lineNo == 1 ? raw.TrimStart('\uFEFF') : raw;
                if (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
                if (line.Length == 0) continue;
                merges.Add(SplitMerge(line, "merges.txt", lineNo));
            }
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new TokenizerException($"merges.txt is not valid UTF-8 (after line {lineNo}) ({mergesPath})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"cannot read merges.txt ({mergesPath}): {e.Message}", e);
        }
        var segment = new ByteLevelBpeModel(vocab, merges, addPrefixSpace: false, useRegex: true, "vocab.json/merges.txt");
        return Build(directory, segment, null, cfg => PostProcessorJson.ForTokenizerClass(cfg.TokenizerClass,
            t => vocab.TryGetValue(t, out var id) ? id : null, cfg.Names.GetValueOrDefault("cls_token", "<s>"), cfg.Names.GetValueOrDefault("sep_token", "</s>")), null,
            new ByteLevelDecoder()); // what transformers' converter writes for GPT-2 / RoBERTa

    }

    // added: tokenizer.json's added tokens, or null for a legacy folder: then the tokenizer class's default special
    // tokens present in the vocabulary are registered, as transformers' slow tokenizers do (RoBERTa's <mask> with lstrip).
    private static PipelineTokenizer Build(string directory, ByteLevelBpeModel segment, List<AddedToken>? added,
        Func<(Dictionary<string, string> Names, int? Max, string? TokenizerClass), TemplatePostProcessor> post, int? padFromJson,
        TokenDecoder decoder)
    {
        var cfg = TokenizerConfigLoader.ReadSpecialTokenNames(directory);
        if (added == null)
        {
            added = [];
            bool gpt2 = cfg.TokenizerClass is "GPT2Tokenizer" or "GPT2TokenizerFast" or "CodeGenTokenizer" or "CodeGenTokenizerFast";
            (string Key, string Name)[] defaults = gpt2
                ? [("unk_token", "<|endoftext|>"), ("bos_token", "<|endoftext|>"), ("eos_token", "<|endoftext|>")]
                : [("bos_token", "<s>"), ("pad_token", "<pad>"), ("eos_token", "</s>"), ("unk_token", "<unk>"), ("sep_token", "</s>"), ("cls_token", "<s>"), ("mask_token", "<mask>")];
            foreach (var (key, name) in defaults)
            {
                string n = cfg.Names.GetValueOrDefault(key, name);
                if (segment.TryGetId(n, out var id) && !added.Exists(a => a.Content == n))
                    added.Add(new AddedToken(n, id, LStrip: key == "mask_token" && !gpt2, Special: true));
            }
        }
        int? IdOf(string t)
        {
            foreach (var a in added) if (a.Content == t) return a.Id;
            return segment.TryGetId(t, out var id) ? id : null;
        }
        // Special tokens the config names but the vocabulary lacks are an error; RoBERTa's defaults are only taken when present.
        foreach (var (key, name) in cfg.Names)
            if (IdOf(name) == null) throw new TokenizerException($"{key} '{name}' (tokenizer_config.json / special_tokens_map.json) is not in the vocabulary");
        // Specials named by the config are matched in the text even without tokenizer.json's added_tokens (transformers
        // registers them as special added tokens on load).
        foreach (var name in cfg.Names.Values)
            if (!added.Exists(a => a.Content == name)) added.Add(new AddedToken(name, IdOf(name)!.Value, Special: true));
        int padId = cfg.Names.TryGetValue("pad_token", out var padName) ? IdOf(padName)!.Value
            : IdOf("<pad>") ?? padFromJson ?? IdOf("<|endoftext|>") ?? 0;
        string? mask = cfg.Names.TryGetValue("mask_token", out var m) ? m : IdOf("<mask>") != null ? "<mask>" : null;
        var settings = new PipelineSettings(KindName, padId, mask, cfg.ModelMaxLength, Decoder: decoder);
        return new PipelineTokenizer(segment, added, post(cfg), settings);
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, Dictionary<string, int> vocab)
    {
        var list = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var at) || at.ValueKind == JsonValueKind.Null) return list;
        if (at.ValueKind != JsonValueKind.Array) throw new TokenizerException($"{TJ}: added_tokens must be an array");
        foreach (var t in at.EnumerateArray())
        {
            var content = Json.Str(t, "content", TJ, "added_tokens[]");
            if (string.IsNullOrEmpty(content) || !t.TryGetProperty("id", out var idEl) || idEl.ValueKind != JsonValueKind.Number || !idEl.TryGetInt32(out var id))
                throw new TokenizerException($"{TJ}: malformed entry in added_tokens (needs a non-empty \"content\" and an integer \"id\")");
            if (id < vocab.Count && vocab.TryGetValue(content, out var vid) && vid != id)
                throw new TokenizerException($"{TJ}: added token '{content}' has id {id} but the model's vocabulary gives {vid}");
            if (id < 0 || (id < vocab.Count && !vocab.ContainsKey(content)))
                throw new TokenizerException($"{TJ}: added token '{content}' has id {id}, which the model's vocabulary gives to another token");
            list.Add(new AddedToken(content, id, Json.Bool(t, "lstrip", false, TJ), Json.Bool(t, "rstrip", false, TJ),
                Json.Bool(t, "single_word", false, TJ), Json.Bool(t, "special", false, TJ)));
        }
        return list;
    }

    private static Dictionary<string, int> ReadVocab(JsonElement e, string what)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new TokenizerException($"{what} must be a JSON object {{\"token\": id}}, got {e.ValueKind}");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id))
                throw new TokenizerException($"{what}: the id of '{p.Name}' must be an integer");
            if (!vocab.TryAdd(p.Name, id)) throw new TokenizerException($"{what}: token '{p.Name}' appears twice");
        }
        if (vocab.Count == 0) throw new TokenizerException($"{what} is empty");
        return vocab;
    }

    private static (string, string) SplitMerge(string line, string what, int n)
    {
        int sp = line.IndexOf(' ');
        if (sp <= 0 || sp == line.Length - 1 || line.IndexOf(' ', sp + 1) >= 0)
            throw new TokenizerException($"{what}: merge {n} '{line}' must be two tokens separated by one space");
        return (line[..sp], line[(sp + 1)..]);
    }

    private static string? TypeOf(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : e.ValueKind.ToString();
}
