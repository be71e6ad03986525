using System.Text.Json;
using System.Text.RegularExpressions;

namespace NativeTransformer.Tokenization;

/// <summary>Reads tokenizer.json's "decoder" into a <see cref="TokenDecoder"/>, with HF's defaults for absent fields.</summary>
internal static class DecoderJson
{
    /// <summary>Decoder types this library reads.</summary>
    public const string Supported = "ByteLevel, WordPiece, Metaspace, Sequence, Replace, ByteFallback, Fuse, Strip, BPEDecoder";
    private const string W = "tokenizer.json decoder";

    /// <summary>The root's "decoder"; <see cref="TokenDecoder.None"/> (tokens joined with spaces, as HF) when it is
    /// absent or null.</summary>
    /// <exception cref="TokenizerException">A type not in <see cref="Supported"/>, or a malformed field.</exception>
    public static TokenDecoder Read(JsonElement root)
    {
        if (!root.TryGetProperty("decoder", out var dec) || dec.ValueKind == JsonValueKind.Null) return TokenDecoder.None;
        return Parse(dec);
    }

    private static TokenDecoder Parse(JsonElement d)
    {
        string? type = d.ValueKind == JsonValueKind.Object && d.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "ByteLevel": return new ByteLevelDecoder();
            case "WordPiece":
                return new WordPieceDecoder(SpmJson.OptionalString(d, "prefix", W) ?? "##", SpmJson.Bool(d, "cleanup", true, W));
            case "Metaspace":
            {
                string rep = SpmJson.OptionalString(d, "replacement", W) ?? "\u2581";
                if (rep.Length != 1) throw new TokenizerException($"{W}: Metaspace replacement '{rep}' must be one character");
                // prepend_scheme (newer files) wins over add_prefix_space (older ones); both default to a prefix.
                bool drop = SpmJson.OptionalString(d, "prepend_scheme", W) is { } scheme
                    ? scheme switch
                    {
                        "always" or "first" => true,
                        "never" => false,
                        _ => throw new TokenizerException($"{W}: Metaspace prepend_scheme '{scheme}' is not always, first or never"),
                    }
                    : SpmJson.Bool(d, "add_prefix_space", true, W);
                return new MetaspaceDecoder(rep[0], drop);
            }
            case "Sequence":
            {
                var steps = new List<TokenDecoder>();
                foreach (var s in SpmJson.Array(d, "decoders", W).EnumerateArray()) steps.Add(Parse(s));
                return new SequenceDecoder(steps);
            }
            case "Replace":
            {
                string content = SpmJson.String(d, "content", W + " Replace");
                if (!d.TryGetProperty("pattern", out var p) || p.ValueKind != JsonValueKind.Object)
                    throw new TokenizerException($"{W}: Replace 'pattern' must be an object with \"String\" or \"Regex\"");
                if (p.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0)
                    return new ReplaceDecoder(s.GetString(), null, content);
                if (p.TryGetProperty("Regex", out var r) && r.ValueKind == JsonValueKind.String)
                {
                    try { return new ReplaceDecoder(null, new Regex(r.GetString()!, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), content); }
                    catch (ArgumentException e) { throw new TokenizerException($"{W}: invalid Replace Regex '{r.GetString()}'", e); }
                }
                throw new TokenizerException($"{W}: Replace 'pattern' must hold a non-empty \"String\" or a \"Regex\"");
            }
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip":
            {
                string content = SpmJson.String(d, "content", W + " Strip");
                return new StripDecoder(content, Count(d, "start"), Count(d, "stop"));
            }
            case "BPEDecoder": return new BpeSuffixDecoder(SpmJson.OptionalString(d, "suffix", W) ?? "</w>");
            default:
                throw new TokenizerException($"tokenizer.json: unsupported decoder type '{type ?? d.ValueKind.ToString()}' (supported: {Supported})");
        }
    }

    private static int Count(JsonElement d, string key) =>
        !d.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null ? 0
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= 0 ? n
        : throw new TokenizerException($"{W}: Strip '{key}' must be a non-negative integer");
}
