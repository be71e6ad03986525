namespace NativeTransformer.Models;

/// <summary>
/// MobileBERT's block options (config.json keys of Hugging Face's MobileBertConfig). With <see cref="UseBottleneck"/> a block
/// narrows H to <see cref="TrueHiddenSize"/> = intra_bottleneck_size on the way in (bottleneck.input, also the attention
/// residual) and widens back on the way out (output.bottleneck, residual = the block input); attention and the
/// <see cref="NumFeedforwardNetworks"/> stacked FFNs run at that width.
/// <see cref="UseBottleneckAttention"/>: query, key and value all read the bottlenecked input. <see cref="KeyQuerySharedBottleneck"/>:
/// query and key read a second bottleneck (bottleneck.attention) of the block input, value the block input.
/// <see cref="ClassifierActivation"/> false: the pooler output is the first token's hidden state (no pooler weights).
/// </summary>
public sealed record MobileBertOptions(
    bool UseBottleneck,
    int TrueHiddenSize,
    bool UseBottleneckAttention,
    bool KeyQuerySharedBottleneck,
    int NumFeedforwardNetworks,
    bool TrigramInput,
    bool ClassifierActivation)
{
    /// <summary>Query and key read one input and value another (block input): they cannot be one fused projection.</summary>
    public bool SeparateValue => UseBottleneck && KeyQuerySharedBottleneck && !UseBottleneckAttention;

    /// <summary>Validates the MobileBERT keys (Hugging Face defaults where absent), naming the key at fault.</summary>
    internal static MobileBertOptions From(RawConfig r, int hidden, int heads, string source)
    {
        bool bottleneck = r.UseBottleneck ?? true;
        int intra = ModelConfig.Require(r.IntraBottleneckSize ?? 128, "intra_bottleneck_size", source);
        int ffns = r.NumFeedforwardNetworks ?? 4;
        if (ffns <= 0) throw new ModelConfigException($"{source}: \"num_feedforward_networks\" must be at least 1, got {ffns}");
        if (ffns > 64) throw new ModelConfigException($"{source}: \"num_feedforward_networks\" {ffns} is absurdly large (limit 64); refusing to load");
        // true_hidden_size is derived, as MobileBertConfig does; a value stored in config.json is ignored.
        int trueHidden = bottleneck ? intra : hidden;
        string widthKey = bottleneck ? "intra_bottleneck_size" : "hidden_size";
        if (trueHidden % heads != 0)
            throw new ModelConfigException($"{source}: \"{widthKey}\" {trueHidden} (MobileBERT's attention width) is not divisible by num_attention_heads {heads}");
        bool shared = r.KeyQuerySharedBottleneck ?? true, attention = r.UseBottleneckAttention ?? false;
        // query/key are Linear(true_hidden_size, …): without a bottleneck feeding them they read the H-wide block input.
        if (bottleneck && !shared && !attention && intra != hidden)
            throw new ModelConfigException($"{source}: \"key_query_shared_bottleneck\" and \"use_bottleneck_attention\" are both false, so query/key " +
                $"would read the {hidden}-wide block input but are {intra}-wide (intra_bottleneck_size); this MobileBERT cannot run");
        return new MobileBertOptions(bottleneck, trueHidden, bottleneck && attention, bottleneck && shared, ffns,
            r.TrigramInput ?? true, r.ClassifierActivation ?? true);
    }
}
