namespace NativeTransformer.Models;

/// <summary>
/// T5's encoder options (config.json keys of Hugging Face's T5Config). The T5 block is the encoder's pre-norm variant:
/// <code>
///   h = h + o(Attention(RMSNorm(h)) with relative position bias, no 1/√D scaling)
///   h = h + wo(act(wi(RMSNorm(h))))            or, gated:  wo(act(wi_0(x)) ⊙ wi_1(x))
///   last hidden state = RMSNorm(h)             (final_layer_norm)
/// </code>
/// with no Linear biases, embeddings = shared[ids] (no positions, no scaling), and an attention width
/// <see cref="InnerSize"/> = num_heads · d_kv that may differ from d_model.
/// </summary>
public sealed record T5Options(
    int HeadSize,                      // d_kv
    int RelativeAttentionNumBuckets,   // relative_attention_num_buckets
    int RelativeAttentionMaxDistance,  // relative_attention_max_distance
    bool IsGatedAct,                   // from feed_forward_proj "gated-…"
    int NumHeads)
{
    /// <summary>num_heads · d_kv: the width of q, k, v and of o's input.</summary>
    public int InnerSize => NumHeads * HeadSize;

    /// <summary>Largest relative_attention_num_buckets / relative_attention_max_distance accepted (T5 uses 32 / 128).</summary>
    public const int MaxBuckets = 1 << 16, MaxDistanceLimit = 1 << 20;

    /// <summary>Validates the T5 keys (Hugging Face defaults where absent), naming the key at fault. feed_forward_proj decides
    /// the activation and gating as T5Config does ("{act}" or "gated-{act}"; "gated-gelu" means gelu_new); the stored
    /// dense_act_fn / is_gated_act are values T5Config derives from it on load, so they are not read.</summary>
    internal static (T5Options Options, Activation Activation) From(RawConfig r, int heads, string source)
    {
        int dkv = ModelConfig.Require(r.DKv ?? 64, "d_kv", source);
        // Checked here, in 64 bits: num_heads · d_kv sizes q/k/v and every attention buffer.
        if ((long)heads * dkv > 1 << 20)
            throw new ModelConfigException($"{source}: \"d_kv\" {dkv} × num_heads {heads} = {(long)heads * dkv} is absurdly large (limit {1 << 20}); refusing to load");
        int buckets = r.RelativeAttentionNumBuckets ?? 32, distance = r.RelativeAttentionMaxDistance ?? 128;
        // Below 4 buckets a half has no exact bucket (max_exact 0) and the log bucketing divides by zero.
        if (buckets < 4 || buckets > MaxBuckets)
            throw new ModelConfigException($"{source}: \"relative_attention_num_buckets\" {buckets} is out of range (4..{MaxBuckets}; T5 uses 32)");
        int maxExact = buckets / 4;
        if (distance <= maxExact || distance > MaxDistanceLimit)
            throw new ModelConfigException($"{source}: \"relative_attention_max_distance\" {distance} is out of range " +
                $"({maxExact + 1}..{MaxDistanceLimit}: above the exact buckets, relative_attention_num_buckets / 4 = {maxExact}; T5 uses 128)");
        string proj = r.FeedForwardProj ?? "relu";
        var parts = proj.Split('-');
        bool gated = parts.Length == 2 && parts[0] == "gated";
        if (!(parts.Length == 1 || gated))
            throw new ModelConfigException($"{source}: \"feed_forward_proj\" \"{proj}\" is not \"{{activation}}\" or \"gated-{{activation}}\"");
        string act = proj == "gated-gelu" ? "gelu_new" : parts[^1];
        var activation = act switch
        {
            "relu" => Activation.Relu,
            "gelu" => Activation.Gelu,
            "gelu_new" or "gelu_pytorch_tanh" => Activation.GeluTanh,
            _ => throw new ModelConfigException($"{source}: \"feed_forward_proj\" \"{proj}\": activation \"{act}\" is not supported (relu, gelu, gelu_new)"),
        };
        return (new T5Options(dkv, buckets, distance, gated, heads), activation);
    }
}
