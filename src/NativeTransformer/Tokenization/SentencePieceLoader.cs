using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>
/// Builds a <see cref="PipelineTokenizer"/> for a SentencePiece (Unigram) model folder: from tokenizer.json, or from
/// the legacy spiece.model / sentencepiece.bpe.model with tokenizer_config.json when there is no tokenizer.json.
/// </summary>
internal static class SentencePieceLoader
{
    public const string Kind = "Unigram (SentencePiece)";
    private const long MaxJsonBytes = TokenizerConfigLoader.MaxJsonBytes;

    public static JsonDocument ParseJson(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxJsonBytes) throw new TokenizerException($"{path}: {info.Length} bytes is larger than the {MaxJsonBytes}-byte limit");
        try { return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new TokenizerException($"{path}: not valid JSON: {e.Message}", e); }
    }

    /// <summary>Reads tokenizer.json (and tokenizer_config.json for pad/mask tokens and model_max_length).</summary>
    public static PipelineTokenizer FromTokenizerJson(string directory, JsonElement root)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        try
        {
            var segment = SentencePieceSegmentModel.FromTokenizerJson(root, path);
            var added = ReadAddedTokens(root, path);
            var post = root.TryGetProperty("post_processor", out var pp) ? PostProcessorJson.Parse(pp, path) : TemplatePostProcessor.None();
            var config = ReadConfig(directory);
            int? padFromJson = root.TryGetProperty("padding", out var pad) && pad.ValueKind == JsonValueKind.Object
                && pad.TryGetProperty("pad_id", out var pid) && pid.TryGetInt32(out int p) ? p : null;
            int padId = ResolvePad(config.Pad, padFromJson, segment, added, path);
            return new PipelineTokenizer(segment, added, post, new PipelineSettings(Kind, padId, config.Mask, config.MaxLength, Decoder: DecoderJson.Read(root)));
        }
        catch (InvalidOperationException e)
        {
            throw new TokenizerException($"{path}: a string is not valid UTF-8 / UTF-16: {e.Message}", e);
        }
    }

    /// <summary>
    /// A legacy folder: the sentencepiece .model plus tokenizer_config.json, laid out as transformers' converters lay
    /// out tokenizer.json (XLM-R / CamemBERT: fairseq ids with special tokens first and &lt;mask&gt; last; ALBERT:
    /// its quote/accent/case preprocessing; T5: &lt;extra_id_N&gt; after the vocabulary).
    /// </summary>
    public static PipelineTokenizer FromModelFile(string directory, string modelPath)
    {
        var file = SentencePieceModelFile.Load(modelPath);
        string kind = file.ModelType switch
        {
            SentencePieceModelFile.Unigram => "",
            SentencePieceModelFile.Bpe => "BPE",
            SentencePieceModelFile.Word => "WORD",
            SentencePieceModelFile.Char => "CHAR",
            _ => file.ModelType.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (kind.Length > 0)
            throw new TokenizerException($"{modelPath}: sentencepiece model_type {kind} is not supported (only Unigram); " +
                "a tokenizer.json for it is needed");
        var config = ReadConfig(directory);
        string cls = (config.TokenizerClass ?? (Path.GetFileName(modelPath) == "sentencepiece.bpe.model" ? "XLMRobertaTokenizer" : ""))
            .Replace("Fast", "", StringComparison.Ordinal);

        var vocab = new List<(string, double)>();
        int unkId;
        bool fairseq = cls is "XLMRobertaTokenizer" or "CamembertTokenizer";
        if (cls == "CamembertTokenizer")
        {
            vocab.AddRange([("<s>NOTUSED", 0), ("<pad>", 0), ("</s>NOTUSED", 0), ("<unk>", 0), ("<unk>NOTUSED", -100)]);
            for (int i = 1; i < file.Pieces.Count; i++) vocab.Add((file.Pieces[i].Piece, file.Pieces[i].Score));
            vocab.Add(("<mask>", 0));
            unkId = 3;
        }
        else if (fairseq)
        {
            vocab.AddRange([("<s>", 0), ("<pad>", 0), ("</s>", 0), ("<unk>", 0)]);
            for (int i = 3; i < file.Pieces.Count; i++) vocab.Add((file.Pieces[i].Piece, file.Pieces[i].Score));
            vocab.Add(("<mask>", 0));
            unkId = 3;
        }
        else
        {
            foreach (var p in file.Pieces) vocab.Add((p.Piece, p.Score));
            unkId = file.UnkId;
        }
        var model = new UnigramModel(vocab, unkId, file.ByteFallback, modelPath);

        var normalizers = new List<INormalizerStep>();
        if (cls == "AlbertTokenizer")
        {
            var (lower, keepAccents) = ReadAlbertFlags(directory);
            normalizers.Add(ReplaceStep.Literal("``", "\""));
            normalizers.Add(ReplaceStep.Literal("''", "\""));
            if (!keepAccents) { normalizers.Add(new FormStep(true, false)); normalizers.Add(new StripAccentsStep()); }
            if (lower) normalizers.Add(new LowercaseStep());
        }
        if (file.PrecompiledCharsMap is { Length: > 0 } map) normalizers.Add(new PrecompiledStep(PrecompiledCharsMap.Parse(map, modelPath)));
        if (file.RemoveExtraWhitespaces)
        {
            normalizers.Add(new StripStep(true, true));
            normalizers.Add(ReplaceStep.Collapse(' '));
        }
        var segment = new SentencePieceSegmentModel(normalizers, [MetaspaceStep.SentencePieceDefault(file.AddDummyPrefix)], model);

        int? Id(string t) => model.TryGetId(t, out var id) ? id : null;
        var added = new List<AddedToken>();
        void AddSpecial(string? token, bool lstrip = false)
        {
            if (token == null || added.Exists(a => a.Content == token)) return;
            if (Id(token) is { } id) added.Add(new AddedToken(token, id, LStrip: lstrip, Special: true));
        }
        for (int id = 0; id < vocab.Count; id++)
        {
            int type = fairseq ? (id < 4 || id == vocab.Count - 1 ? SentencePieceModelFile.Control : SentencePieceModelFile.Normal)
                : file.Pieces[id].Type;
            // User-defined pieces stay in the model (HF's converters do not make them added tokens).
            if (type is SentencePieceModelFile.Control or SentencePieceModelFile.Unknown)
                AddSpecial(vocab[id].Item1, lstrip: vocab[id].Item1 == config.Mask);
        }
        AddSpecial(config.Mask, lstrip: true);
        if (cls == "T5Tokenizer")
            for (int i = config.ExtraIds - 1; i >= 0; i--)
                added.Add(new AddedToken($"<extra_id_{i}>", vocab.Count + config.ExtraIds - 1 - i, Special: true));

        TemplatePostProcessor post;
        int Need(string t) => Id(t) ?? throw new TokenizerException($"{modelPath}: special token '{t}' is not in the vocabulary");
        switch (cls)
        {
            case "XLMRobertaTokenizer" or "CamembertTokenizer":
                post = TemplatePostProcessor.Roberta("<s>", Need("<s>"), "</s>", Need("</s>"), false, false);
                break;
            case "AlbertTokenizer":
                post = TemplatePostProcessor.Bert("[CLS]", Need("[CLS]"), "[SEP]", Need("[SEP]"));
                break;
            case "T5Tokenizer":
                int eos = Need("</s>");
                post = new TemplatePostProcessor(
                    [TemplatePostProcessor.Piece.Seq(0, 0), TemplatePostProcessor.Piece.Special("</s>", eos, 0)],
                    [TemplatePostProcessor.Piece.Seq(0, 0), TemplatePostProcessor.Piece.Special("</s>", eos, 0),
                     TemplatePostProcessor.Piece.Seq(1, 0), TemplatePostProcessor.Piece.Special("</s>", eos, 0)]);
                break;
            default:
                throw new TokenizerException($"{Path.Combine(directory, "tokenizer_config.json")}: tokenizer_class '{cls}' is not one the legacy " +
                    "sentencepiece loader knows (XLMRobertaTokenizer, CamembertTokenizer, AlbertTokenizer, T5Tokenizer); a tokenizer.json is needed");
        }
        int padId = ResolvePad(config.Pad, null, segment, added, modelPath);
        // transformers' converters give these tokenizers a Metaspace decoder that drops the dummy prefix they add.
        var decoder = new MetaspaceDecoder('\u2581', file.AddDummyPrefix);
        return new PipelineTokenizer(segment, added, post, new PipelineSettings(Kind, padId, config.Mask, config.MaxLength, Decoder: decoder));
    }

    private static (bool Lower, bool KeepAccents) ReadAlbertFlags(string directory)
    {
        string path = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(path)) return (true, false);
        using var doc = ParseJson(path);
        return (SpmJson.Bool(doc.RootElement, "do_lower_case", true, path), SpmJson.Bool(doc.RootElement, "keep_accents", false, path));
    }

    internal static int ResolvePad(string? padToken, int? padFromJson, ISegmentModel model, IReadOnlyList<AddedToken> added, string path)
    {
        int? Lookup(string t)
        {
            foreach (var a in added) if (a.Content == t) return a.Id;
            return model.TryGetId(t, out var id) ? id : null;
        }
        if (padToken != null) return Lookup(padToken) ?? throw new TokenizerException($"{path}: pad_token '{padToken}' is not in the vocabulary");
        if (padFromJson is { } j) return j;
        return Lookup("<pad>") ?? 0;
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        var list = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var arr) || arr.ValueKind == JsonValueKind.Null) return list;
        if (arr.ValueKind != JsonValueKind.Array) throw new TokenizerException($"{path}: added_tokens must be an array");
        foreach (var t in arr.EnumerateArray())
        {
            if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("id", out var idE) || !idE.TryGetInt32(out int id))
                throw new TokenizerException($"{path}: every added_tokens entry needs an integer 'id'");
            string content = SpmJson.String(t, "content", path + " added_tokens");
            if (content.Length == 0) throw new TokenizerException($"{path}: added token {id} has empty content");
            list.Add(new AddedToken(content, id, SpmJson.Bool(t, "lstrip", false), SpmJson.Bool(t, "rstrip", false),
                SpmJson.Bool(t, "single_word", false), SpmJson.Bool(t, "special", false)));
        }
        return list;
    }

    internal sealed record Config(string? Pad, string? Mask, int? MaxLength, string? TokenizerClass, string? Unk, int ExtraIds);

    /// <summary>pad_token, mask_token, unk_token, tokenizer_class and model_max_length from tokenizer_config.json
    /// (special_tokens_map.json fills what it lacks).</summary>
    internal static Config ReadConfig(string directory)
    {
        string? pad = null, mask = null, cls = null, unk = null;
        int? max = null;
        int extra = 0;
        foreach (var name in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path)) continue;
            using var doc = ParseJson(path);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new TokenizerException($"{path}: must be a JSON object");
            pad ??= Token(r, "pad_token", path);
            mask ??= Token(r, "mask_token", path);
            unk ??= Token(r, "unk_token", path);
            if (cls == null && r.TryGetProperty("tokenizer_class", out var c) && c.ValueKind == JsonValueKind.String) cls = c.GetString();
            if (max == null && r.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number
                && m.TryGetDouble(out var d) && d >= 1 && d < int.MaxValue) max = (int)d;
            if (extra == 0 && r.TryGetProperty("extra_ids", out var x) && x.TryGetInt32(out int xi) && xi is > 0 and <= 10000) extra = xi;
        }
        return new Config(pad, mask, max, cls, unk, extra);
    }

    private static string? Token(JsonElement r, string key, string path)
    {
        if (!r.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        throw new TokenizerException($"{path}: '{key}' must be a string or an object with \"content\"");
    }
}
