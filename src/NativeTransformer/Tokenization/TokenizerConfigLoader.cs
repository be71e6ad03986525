using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>
/// Reads tokenizer settings from a Hugging Face model folder.
/// </summary>
/// <remarks>
/// Sources, lowest priority first: built-in BERT-uncased defaults; tokenizer.json (normalizer, WordPiece model,
/// post-processor special tokens, padding token, added tokens); tokenizer_config.json (do_lower_case,
/// strip_accents, tokenize_chinese_chars, model_max_length, special token names); special_tokens_map.json
/// (special token names, as transformers lets it override tokenizer_config.json). The
/// tokenizer_config.json flags win over tokenizer.json's normalizer because that is what transformers'
/// BertTokenizerFast does on load (it rebuilds the normalizer when they differ). Truncation and padding blocks of
/// tokenizer.json are ignored: the caller passes maxLength.
/// </remarks>
internal static class TokenizerConfigLoader
{
    /// <summary>Largest tokenizer JSON file read (bert-base's tokenizer.json is 700 KB; multilingual ones a few MB).</summary>
    public const long MaxJsonBytes = 64 << 20;

    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Largest model_max_length taken at face value; bigger values (HF's int(1e30) "unset") mean unset.</summary>
    private const double MaxRealModelLength = int.MaxValue - 1;

    /// <param name="Options">The settings read.</param>
    /// <param name="AddedTokens">tokenizer.json's added_tokens.</param>
    /// <param name="Decoder">tokenizer.json's decoder; WordPiece's (HF's BertTokenizerFast default) without tokenizer.json.</param>
    public sealed record Loaded(TokenizerOptions Options, List<(string Content, int Id, bool LStrip, bool RStrip, bool Normalized, bool Special)> AddedTokens,
        TokenDecoder Decoder);

    public static Loaded Load(string directory)
    {
        string current = "tokenizer.json";
        try { return Load(directory, ref current); }
        catch (InvalidOperationException e)
        {
            // JsonDocument validates structure on parse but string contents only when read: invalid UTF-8 bytes or a
            // lone-surrogate escape ("\ud800") inside a string surface here, as InvalidOperationException.
            throw new TokenizerException($"{current}: a string is not valid UTF-8 / UTF-16 ({Path.Combine(directory, current)}): {e.Message}", e);
        }
    }

    private static Loaded Load(string directory, ref string current)
    {
        var o = new TokenizerOptions();
        var added = new List<(string, int, bool, bool, bool, bool)>();
        TokenDecoder? decoder = null;

        using (var tj = Open(directory, "tokenizer.json"))
        {
            if (tj != null)
            {
                o = Named(directory, () => ApplyTokenizerJson(tj.RootElement, o, added));
                decoder = DecoderJson.Read(tj.RootElement);
            }
        }
        current = "tokenizer_config.json";
        using (var tc = Open(directory, "tokenizer_config.json"))
        {
            if (tc != null)
            {
                var root = tc.RootElement;
                o = Named(directory, () => ApplySpecialTokens(root, o, "tokenizer_config.json"));
                if (TryBool(root, "do_lower_case", out var lc)) o = o with { Lowercase = lc };
                if (root.TryGetProperty("strip_accents", out var sa))
                    o = o with { StripAccents = sa.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null } };
                if (TryBool(root, "tokenize_chinese_chars", out var tcc)) o = o with { TokenizeChineseChars = tcc };
                if (root.TryGetProperty("model_max_length", out var mml) && mml.ValueKind == JsonValueKind.Number)
                {
                    double v = mml.GetDouble();
                    o = o with { ModelMaxLength = v >= 1 && v <= MaxRealModelLength ? (int)v : TokenizerOptions.UnsetModelMaxLength };
                }
                else
                {
                    o = o with { ModelMaxLength = TokenizerOptions.UnsetModelMaxLength };
                }
            }
        }
        current = "special_tokens_map.json";
        using (var sm = Open(directory, "special_tokens_map.json"))
        {
            if (sm != null) o = Named(directory, () => ApplySpecialTokens(sm.RootElement, o, "special_tokens_map.json"));
        }
        return new Loaded(o, added, decoder ?? new WordPieceDecoder(o.ContinuingSubwordPrefix, cleanup: true));
    }

    /// <summary>Special token names and model_max_length of tokenizer_config.json and special_tokens_map.json (the
    /// latter wins), for families other than WordPiece: only the keys the files set. model_max_length is null when
    /// unset or HF's "unset" sentinel.</summary>
    public static (Dictionary<string, string> Names, int? ModelMaxLength, string? TokenizerClass) ReadSpecialTokenNames(string directory)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        int? max = null;
        string? cls = null;
        string[] keys = ["unk_token", "bos_token", "eos_token", "cls_token", "sep_token", "pad_token", "mask_token"];
        foreach (var file in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            try
            {
                using var doc = Open(directory, file);
                if (doc == null) continue;
                var root = doc.RootElement;
                foreach (var key in keys)
                    if (SpecialName(root, key, file) is { } v) names[key] = v;
                if (file == "tokenizer_config.json")
                {
                    if (root.TryGetProperty("model_max_length", out var mml) && mml.ValueKind == JsonValueKind.Number)
                    {
                        double v = mml.GetDouble();
                        max = v >= 1 && v <= MaxRealModelLength ? (int)v : null;
                    }
                    if (root.TryGetProperty("tokenizer_class", out var tc) && tc.ValueKind == JsonValueKind.String) cls = tc.GetString();
                }
            }
            catch (InvalidOperationException e)
            {
                throw new TokenizerException($"{file}: a string is not valid UTF-8 / UTF-16 ({Path.Combine(directory, file)}): {e.Message}", e);
            }
        }
        return (names, max, cls);
    }

    /// <summary>Runs <paramref name="apply"/>, putting the folder in front of its errors (they name the file only).</summary>
    private static TokenizerOptions Named(string directory, Func<TokenizerOptions> apply)
    {
        try { return apply(); }
        catch (TokenizerException e) { throw new TokenizerException($"{directory}: {e.Message}", e); }
    }

    internal static JsonDocument? Open(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        if (!File.Exists(path)) return null;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxJsonBytes)
                throw new TokenizerException($"{name}: {length} bytes, over the {MaxJsonBytes}-byte limit; refusing to read it ({path})");
            ReadOnlyMemory<byte> bytes = File.ReadAllBytes(path);
            if (bytes.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) bytes = bytes[3..];
            // Checked up front: JsonDocument only validates UTF-8 when a string is read, and then throws InvalidOperationException.
            if (!System.Text.Unicode.Utf8.IsValid(bytes.Span))
                throw new TokenizerException($"{name} is not valid UTF-8 ({path})");
            var doc = JsonDocument.Parse(bytes, JsonOptions);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new TokenizerException($"{name}: expected a JSON object at the top level ({path})");
            }
            return doc;
        }
        catch (JsonException ex)
        {
            throw new TokenizerException($"{name} is not valid JSON ({path}): {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerException($"cannot read {name} ({path}): {ex.Message}", ex);
        }
    }

    private static TokenizerOptions ApplyTokenizerJson(JsonElement root, TokenizerOptions o,
        List<(string, int, bool, bool, bool, bool)> added)
    {
        const string F = "tokenizer.json";
        if (root.TryGetProperty("normalizer", out var norm))
        {
            if (norm.ValueKind == JsonValueKind.Null)
            {
                o = o with { CleanText = false, TokenizeChineseChars = false, Lowercase = false, StripAccents = false };
            }
            else
            {
                var type = Str(norm, "type");
                if (type != "BertNormalizer")
                    throw new TokenizerException($"{F}: unsupported normalizer type '{type}' (only BertNormalizer is implemented)");
                if (TryBool(norm, "clean_text", out var ct)) o = o with { CleanText = ct };
                if (TryBool(norm, "handle_chinese_chars", out var hc)) o = o with { TokenizeChineseChars = hc };
                if (TryBool(norm, "lowercase", out var lc)) o = o with { Lowercase = lc };
                if (norm.TryGetProperty("strip_accents", out var sa))
                    o = o with { StripAccents = sa.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null } };
            }
        }
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object)
        {
            var type = Str(pre, "type");
            if (type != "BertPreTokenizer")
                throw new TokenizerException($"{F}: unsupported pre_tokenizer type '{type}' (only BertPreTokenizer is implemented)");
        }
        if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object)
        {
            var type = Str(model, "type");
            if (type != null && type != "WordPiece")
                throw new TokenizerException($"{F}: unsupported model type '{type}' (only WordPiece is implemented)");
            if (Str(model, "unk_token") is { } unk) o = o with { UnkToken = unk };
            if (Str(model, "continuing_subword_prefix") is { } pfx) o = o with { ContinuingSubwordPrefix = pfx };
            if (model.TryGetProperty("max_input_chars_per_word", out var mc) && mc.ValueKind == JsonValueKind.Number && mc.TryGetInt32(out var mci))
                o = o with { MaxInputCharsPerWord = mci >= 1 ? mci : throw new TokenizerException($"{F}: model.max_input_chars_per_word must be >= 1, got {mci}") };
        }
        if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object)
        {
            var type = Str(post, "type");
            if (type == "TemplateProcessing" && post.TryGetProperty("single", out var single) && single.ValueKind == JsonValueKind.Array)
            {
                var specials = new List<string>();
                foreach (var item in single.EnumerateArray())
                    if (item.TryGetProperty("SpecialToken", out var st) && Str(st, "id") is { } sid) specials.Add(sid);
                if (specials.Count >= 1) o = o with { ClsToken = specials[0] };
                if (specials.Count >= 2) o = o with { SepToken = specials[^1] };
            }
            else if (type == "BertProcessing")
            {
                if (post.TryGetProperty("cls", out var cls) && cls.ValueKind == JsonValueKind.Array && cls.GetArrayLength() > 0 && cls[0].ValueKind == JsonValueKind.String)
                    o = o with { ClsToken = cls[0].GetString()! };
                if (post.TryGetProperty("sep", out var sep) && sep.ValueKind == JsonValueKind.Array && sep.GetArrayLength() > 0 && sep[0].ValueKind == JsonValueKind.String)
                    o = o with { SepToken = sep[0].GetString()! };
            }
        }
        if (root.TryGetProperty("padding", out var pad) && pad.ValueKind == JsonValueKind.Object && Str(pad, "pad_token") is { } pt)
            o = o with { PadToken = pt };
        if (root.TryGetProperty("added_tokens", out var at) && at.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in at.EnumerateArray())
            {
                var content = Str(t, "content");
                if (content == null || !t.TryGetProperty("id", out var idEl) || idEl.ValueKind != JsonValueKind.Number || !idEl.TryGetInt32(out var id))
                    throw new TokenizerException($"{F}: malformed entry in added_tokens");
                TryBool(t, "lstrip", out var l);
                TryBool(t, "rstrip", out var r);
                bool normalized = TryBool(t, "normalized", out var n) && n;
                TryBool(t, "special", out var special);
                added.Add((content, id, l, r, normalized, special));
            }
        }
        return o;
    }

    private static TokenizerOptions ApplySpecialTokens(JsonElement root, TokenizerOptions o, string file)
    {
        if (SpecialName(root, "unk_token", file) is { } unk) o = o with { UnkToken = unk };
        if (SpecialName(root, "cls_token", file) is { } cls) o = o with { ClsToken = cls };
        if (SpecialName(root, "sep_token", file) is { } sep) o = o with { SepToken = sep };
        if (SpecialName(root, "pad_token", file) is { } pad) o = o with { PadToken = pad };
        if (SpecialName(root, "mask_token", file) is { } mask) o = o with { MaskToken = mask };
        return o;
    }

    /// <summary>A special token given as a string or as an AddedToken object {"content": ...}.</summary>
    internal static string? SpecialName(JsonElement root, string key, string file)
    {
        if (!root.TryGetProperty(key, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when Str(v, "content") is { } c => c,
            JsonValueKind.Null => null,
            _ => throw new TokenizerException($"{file}: '{key}' must be a string or an object with \"content\""),
        };
    }

    private static string? Str(JsonElement e, string key) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool TryBool(JsonElement e, string key, out bool value)
    {
        value = false;
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out var v)) return false;
        if (v.ValueKind == JsonValueKind.True) { value = true; return true; }
        if (v.ValueKind == JsonValueKind.False) return true;
        return false;
    }
}
