using System.Text.Json;

namespace NativeTransformer.Models;

/// <summary>
/// Longformer's attention settings (Hugging Face LongformerConfig). <see cref="AttentionWindow"/>[l] is layer l's full
/// window: each token attends to the attention_window / 2 tokens on each side, plus every global token; global tokens
/// attend to every token through their own query_global / key_global / value_global projections.
/// Hugging Face pads the input to a multiple of the window and cuts the outputs back; the padding is masked, so it
/// changes nothing for the real tokens and is not done here.
/// </summary>
public sealed record LongformerOptions(IReadOnlyList<int> AttentionWindow)
{
    /// <summary>Tokens a layer's local attention sees on each side of a token.</summary>
    public int OneSidedWindow(int layer) => AttentionWindow[layer] / 2;

    /// <summary>Largest window anything may be sized from (a real Longformer uses 512).</summary>
    public const int MaxWindow = 1 << 16;

    /// <summary>attention_window: one even positive int for every layer, or a list of one per layer (as Hugging Face writes it).</summary>
    internal static LongformerOptions From(RawConfig r, int layers, string source)
    {
        if (r.AttentionWindow is not { } raw || raw.ValueKind == JsonValueKind.Null)
            throw new ModelConfigException($"{source}: \"attention_window\" is missing (Longformer needs a window: an even int or one per layer)");
        int[] windows;
        if (raw.ValueKind == JsonValueKind.Number) windows = Enumerable.Repeat(Window(raw, "attention_window", source), layers).ToArray();
        else if (raw.ValueKind == JsonValueKind.Array)
        {
            int count = raw.GetArrayLength();
            if (count != layers)
                throw new ModelConfigException($"{source}: \"attention_window\" has {count} entries but num_hidden_layers is {layers} (one window per layer)");
            windows = new int[count];
            int i = 0;
            foreach (var item in raw.EnumerateArray()) { windows[i] = Window(item, $"attention_window[{i}]", source); i++; }
        }
        else throw new ModelConfigException($"{source}: \"attention_window\" is a {raw.ValueKind}, expected an even int or a list of them");
        return new LongformerOptions(windows);
    }

    private static int Window(JsonElement e, string name, string source)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int w))
            throw new ModelConfigException($"{source}: \"{name}\" is {e.GetRawText()}, expected an even positive integer");
        if (w <= 0) throw new ModelConfigException($"{source}: \"{name}\" must be positive, got {w}");
        if (w % 2 != 0) throw new ModelConfigException($"{source}: \"{name}\" {w} is odd; Longformer windows are even (window / 2 tokens on each side)");
        if (w > MaxWindow) throw new ModelConfigException($"{source}: \"{name}\" {w} is absurdly large (limit {MaxWindow}); refusing to load");
        return w;
    }
}
