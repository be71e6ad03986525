using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>
/// Reads tokenizer.json's "post_processor" into a <see cref="TemplatePostProcessor"/>, and picks a template for
/// legacy folders (no tokenizer.json) from tokenizer_config.json's tokenizer_class.
/// </summary>
internal static class PostProcessorJson
{
    public const string Supported = "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence";

    /// <summary>Parses <paramref name="post"/> (an object or null).</summary>
    /// <exception cref="TokenizerException">Unknown type or malformed entry, naming <paramref name="file"/>.</exception>
    public static TemplatePostProcessor Parse(JsonElement post, string file)
    {
        if (post.ValueKind == JsonValueKind.Null) return TemplatePostProcessor.None();
        if (post.ValueKind != JsonValueKind.Object) throw new TokenizerException($"{file}: post_processor must be an object or null");
        string type = Json.Str(post, "type", file, "post_processor") ?? throw new TokenizerException($"{file}: post_processor has no \"type\"");
        switch (type)
        {
            case "TemplateProcessing":
                return Template(post, file);
            case "BertProcessing":
            {
                var (cls, clsId) = TokenAndId(post, "cls", file);
                var (sep, sepId) = TokenAndId(post, "sep", file);
                return TemplatePostProcessor.Bert(cls, clsId, sep, sepId);
            }
            case "RobertaProcessing":
            {
                var (cls, clsId) = TokenAndId(post, "cls", file);
                var (sep, sepId) = TokenAndId(post, "sep", file);
                return TemplatePostProcessor.Roberta(cls, clsId, sep, sepId,
                    Json.Bool(post, "trim_offsets", true, file), Json.Bool(post, "add_prefix_space", true, file));
            }
            case "ByteLevel":
                return TemplatePostProcessor.None(Json.Bool(post, "trim_offsets", true, file), Json.Bool(post, "add_prefix_space", true, file));
            case "Sequence":
            {
                if (!post.TryGetProperty("processors", out var list) || list.ValueKind != JsonValueKind.Array)
                    throw new TokenizerException($"{file}: post_processor Sequence needs a \"processors\" array");
                TemplatePostProcessor? template = null;
                bool trim = false, prefix = false;
                foreach (var item in list.EnumerateArray())
                {
                    var p = Parse(item, file);
                    string? itemType = item.ValueKind == JsonValueKind.Object ? Json.Str(item, "type", file, "post_processor") : null;
                    if (itemType == "ByteLevel") { trim |= p.TrimOffsets; prefix |= p.AddPrefixSpace; continue; }
                    if (template != null)
                        throw new TokenizerException($"{file}: post_processor Sequence with more than one template processor is not supported");
                    template = p;
                }
                template ??= TemplatePostProcessor.None();
                return trim ? template.WithTrimOffsets(true, prefix) : template;
            }
            default:
                throw new TokenizerException($"{file}: unsupported post_processor type '{type}' (supported: {Supported})");
        }
    }

    private static (string, int) TokenAndId(JsonElement post, string key, string file)
    {
        if (!post.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 2
            || v[0].ValueKind != JsonValueKind.String || v[1].ValueKind != JsonValueKind.Number || !v[1].TryGetInt32(out var id))
            throw new TokenizerException($"{file}: post_processor.{key} must be [\"token\", id]");
        return (v[0].GetString()!, id);
    }

    private static TemplatePostProcessor Template(JsonElement post, string file)
    {
        var specials = new Dictionary<string, (int[] Ids, string[] Tokens)>(StringComparer.Ordinal);
        if (post.TryGetProperty("special_tokens", out var st) && st.ValueKind == JsonValueKind.Object)
        {
            foreach (var prop in st.EnumerateObject())
            {
                var e = prop.Value;
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array
                    || !e.TryGetProperty("tokens", out var toks) || toks.ValueKind != JsonValueKind.Array)
                    throw new TokenizerException($"{file}: post_processor.special_tokens['{prop.Name}'] needs \"ids\" and \"tokens\" arrays");
                var idArr = ids.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out var i) ? i
                    : throw new TokenizerException($"{file}: post_processor.special_tokens['{prop.Name}'].ids must be integers")).ToArray();
                var tokArr = toks.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()!
                    : throw new TokenizerException($"{file}: post_processor.special_tokens['{prop.Name}'].tokens must be strings")).ToArray();
                specials[prop.Name] = (idArr, tokArr);
            }
        }
        return new TemplatePostProcessor(Items(post, "single", specials, file), Items(post, "pair", specials, file));
    }

    private static List<TemplatePostProcessor.Piece> Items(JsonElement post, string key, Dictionary<string, (int[] Ids, string[] Tokens)> specials, string file)
    {
        if (!post.TryGetProperty(key, out var arr) || arr.ValueKind != JsonValueKind.Array)
            throw new TokenizerException($"{file}: post_processor.{key} must be an array");
        var pieces = new List<TemplatePostProcessor.Piece>();
        foreach (var item in arr.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Sequence", out var s) && s.ValueKind == JsonValueKind.Object)
            {
                int seq = Json.Str(s, "id", file, "post_processor") switch
                {
                    "A" => 0,
                    "B" => 1,
                    var other => throw new TokenizerException($"{file}: post_processor.{key}: unknown sequence id '{other}' (A or B)"),
                };
                pieces.Add(TemplatePostProcessor.Piece.Seq(seq, TypeId(s, key, file)));
            }
            else if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("SpecialToken", out var t) && t.ValueKind == JsonValueKind.Object)
            {
                string id = Json.Str(t, "id", file, "post_processor") ?? throw new TokenizerException($"{file}: post_processor.{key}: SpecialToken without id");
                if (!specials.TryGetValue(id, out var sp))
                    throw new TokenizerException($"{file}: post_processor.{key} uses special token '{id}' missing from special_tokens");
                pieces.Add(new TemplatePostProcessor.Piece(-1, TypeId(t, key, file), sp.Ids, sp.Tokens));
            }
            else throw new TokenizerException($"{file}: post_processor.{key}: each item must be {{\"Sequence\": ...}} or {{\"SpecialToken\": ...}}");
        }
        return pieces;
    }

    private static int TypeId(JsonElement e, string key, string file)
    {
        if (!e.TryGetProperty("type_id", out var v)) return 0;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i >= 0 && i < 1024 ? i
            : throw new TokenizerException($"{file}: post_processor.{key}: type_id must be an integer in 0..1023");
    }

    /// <summary>The template of a legacy folder (no tokenizer.json), from tokenizer_config.json's tokenizer_class:
    /// RoBERTa-style classes get <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>, GPT-2 style none.</summary>
    public static TemplatePostProcessor ForTokenizerClass(string? tokenizerClass, Func<string, int?> idOf, string cls, string sep)
    {
        string c = (tokenizerClass ?? "RobertaTokenizer").Replace("Fast", "", StringComparison.Ordinal);
        if (c is "GPT2Tokenizer" or "CodeGenTokenizer") return TemplatePostProcessor.None(trimOffsets: true, addPrefixSpace: false);
        int clsId = idOf(cls) ?? throw new TokenizerException($"cls token '{cls}' is not in the vocabulary");
        int sepId = idOf(sep) ?? throw new TokenizerException($"sep token '{sep}' is not in the vocabulary");
        return TemplatePostProcessor.Roberta(cls, clsId, sep, sepId, trimOffsets: true, addPrefixSpace: false);
    }
}

/// <summary>Small typed readers for tokenizer JSON: a wrong type is a <see cref="TokenizerException"/> naming the file.</summary>
internal static class Json
{
    public static string? Str(JsonElement e, string key, string file, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()
            : throw new TokenizerException($"{file}: {where}.{key} must be a string");
    }

    public static bool Bool(JsonElement e, string key, bool fallback, string file)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out var v)) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => fallback,
            _ => throw new TokenizerException($"{file}: '{key}' must be true or false"),
        };
    }
}
