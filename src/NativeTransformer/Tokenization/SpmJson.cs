using System.Text.Json;

namespace NativeTransformer.Tokenization;

/// <summary>Typed reads from tokenizer.json elements that name the component on failure.</summary>
internal static class SpmJson
{
    public static string Type(JsonElement n, string what)
    {
        if (n.ValueKind != JsonValueKind.Object) throw new TokenizerException($"{what} must be a JSON object, not {n.ValueKind}");
        return n.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()!
            : throw new TokenizerException($"{what} has no string 'type'");
    }

    public static JsonElement Array(JsonElement n, string key, string what) =>
        n.TryGetProperty(key, out var a) && a.ValueKind == JsonValueKind.Array ? a
            : throw new TokenizerException($"{what}: '{key}' must be an array");

    public static string String(JsonElement n, string key, string what) =>
        n.TryGetProperty(key, out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()!
            : throw new TokenizerException($"{what}: '{key}' must be a string");

    public static string? OptionalString(JsonElement n, string key, string what)
    {
        if (!n.TryGetProperty(key, out var s) || s.ValueKind == JsonValueKind.Null) return null;
        return s.ValueKind == JsonValueKind.String ? s.GetString() : throw new TokenizerException($"{what}: '{key}' must be a string");
    }

    public static bool Bool(JsonElement n, string key, bool fallback, string what = "tokenizer.json")
    {
        if (!n.TryGetProperty(key, out var b) || b.ValueKind == JsonValueKind.Null) return fallback;
        return b.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TokenizerException($"{what}: '{key}' must be true or false"),
        };
    }
}
