namespace NativeTransformer.Models;

// Weights of the encoder, read zero-copy from the memory-mapped checkpoint. Every matrix keeps
// PyTorch's [out, in] row-major layout, which is what Gemm consumes. Shapes use
// V = vocab, P = max positions, T = token types, E = embedding size, H = hidden, I = intermediate,
// C = classes.

/// <summary>A torch.nn.Linear: y = x · Weightᵀ + Bias.</summary>
public sealed record LinearWeights(
    string Key,
    ReadOnlyMemory<float> Weight, // [Out, In]
    ReadOnlyMemory<float> Bias,   // [Out]
    int Out, int In,
    Int8Weight? Quantized = null); // set when the checkpoint stores the weight as I8 + scales (Weight is then empty)

/// <summary>An I8 [Rows, Cols] weight of an int8 checkpoint with one F32 scale per row (value ≈ q · scale), read zero-copy
/// from the mapped file; packed into the int8 kernels' layout only when the layer is built.</summary>
public sealed class Int8Weight
{
    private readonly Weights.ITensorSource _source;

    internal Int8Weight(Weights.ITensorSource source, string key, ReadOnlyMemory<float> scales, int rows, int cols)
    {
        _source = source; Key = key; Scales = scales; Rows = rows; Cols = cols;
    }

    public string Key { get; }
    public ReadOnlyMemory<float> Scales { get; } // [Rows]
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>q [Rows, Cols] row-major.</summary>
    public ReadOnlySpan<sbyte> Values => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(_source.GetBytes(Key));
}

/// <summary>A torch.nn.LayerNorm over the last dimension.</summary>
public sealed record LayerNormWeights(
    string Key,
    ReadOnlyMemory<float> Gamma, // [Width]
    ReadOnlyMemory<float> Beta,  // [Width]
    int Width);

public sealed record EmbeddingWeights(
    EmbeddingTable Word,             // [V, E] fp32, or int8 rows in a quantized folder
    ReadOnlyMemory<float> Position,  // [P, E]; MobileBERT [P, H]
    ReadOnlyMemory<float> TokenType, // [T, E]; empty for DistilBERT; MobileBERT [T, H]
    LayerNormWeights? Norm,          // [E]; MobileBERT [H]; null for T5 (no embedding norm)
    LinearWeights? Projection);      // ALBERT embedding_hidden_mapping_in: [H, E]; MobileBERT embedding_transformation [H, 3E]; else null

/// <summary>One post-LayerNorm transformer block (BERT naming in comments; DistilBERT and ALBERT map onto it).</summary>
public sealed record EncoderLayerWeights(
    LinearWeights Query,            // attention.self.query   [H, H]
    LinearWeights Key,              // attention.self.key     [H, H]
    LinearWeights Value,            // attention.self.value   [H, H]
    LinearWeights AttentionOutput,  // attention.output.dense [H, H]
    LayerNormWeights AttentionNorm, // attention.output.LayerNorm [H]
    LinearWeights Intermediate,     // intermediate.dense     [I, H]
    LinearWeights Output,           // output.dense           [H, I]
    LayerNormWeights OutputNorm)    // output.LayerNorm       [H]
{
    // MobileBERT's block (see MobileBertOptions); H above reads T = true_hidden_size there, except value [T, H] when
    // SeparateValue. Null / empty for the other families.
    public BottleneckWeights? InputBottleneck { get; init; }     // bottleneck.input      [T, H]: attention residual (and q/k/v input with use_bottleneck_attention)
    public BottleneckWeights? AttentionBottleneck { get; init; } // bottleneck.attention  [T, H]: query/key input (key_query_shared_bottleneck)
    public FeedForwardWeights[] ExtraFeedForwards { get; init; } = []; // ffn.0 … ffn.N-2, each run before intermediate/output
    public BottleneckWeights? OutputBottleneck { get; init; }    // output.bottleneck     [H, T], residual = the block input
    /// <summary>value reads the block input while query/key read another tensor: no fused q|k|v projection.</summary>
    public bool SeparateValue { get; init; }
    /// <summary>T5's gated FFN: wi_1 [I, H], multiplying act(Intermediate = wi_0) element-wise; null elsewhere.</summary>
    public LinearWeights? Gate { get; init; }
    /// <summary>Longformer: attention.self.query_global / key_global / value_global [H, H], what global tokens attend with.</summary>
    public (LinearWeights Query, LinearWeights Key, LinearWeights Value)? Global { get; init; }
}

/// <summary>A Linear then a norm (MobileBERT's bottlenecks).</summary>
public sealed record BottleneckWeights(LinearWeights Dense, LayerNormWeights Norm);

/// <summary>One stacked MobileBERT FFN: norm(x + output(act(intermediate(x)))).</summary>
public sealed record FeedForwardWeights(LinearWeights Intermediate, LinearWeights Output, LayerNormWeights Norm);

public sealed record EncoderWeights(
    EmbeddingWeights Embeddings,
    EncoderLayerWeights[] Layers) // [NumLayers]; ALBERT repeats its shared group's object
{
    /// <summary>T5: final_layer_norm [H] (RMSNorm after the last block); null elsewhere.</summary>
    public LayerNormWeights? FinalNorm { get; init; }
    /// <summary>T5: the first block's relative_attention_bias [buckets, heads], used by every block; empty elsewhere.</summary>
    public ReadOnlyMemory<float> RelativeAttentionBias { get; init; }
}

/// <summary>The activation after a classifier's first dense layer.</summary>
public enum HeadActivation { Relu, Tanh }

/// <summary>Optional heads found in the checkpoint.</summary>
public sealed record HeadWeights(
    LinearWeights? Pooler,          // [H, H] then tanh, on the first token (null with FirstTokenPooler)
    LinearWeights? PreClassifier,   // on the first token: DistilBERT pre_classifier [H, H] then ReLU, RoBERTa classifier.dense then tanh
    LinearWeights? Classifier,      // [C, H]: classifier, RoBERTa classifier.out_proj
    MaskedLmWeights? MaskedLm,
    HeadActivation PreClassifierActivation = HeadActivation.Relu)
{
    /// <summary>[labels, H] on every token's last hidden state (…ForTokenClassification); then <see cref="Classifier"/> is null.</summary>
    public LinearWeights? TokenClassifier { get; init; }
    /// <summary>qa_outputs [2, H] on every token: start and end logits (…ForQuestionAnswering).</summary>
    public LinearWeights? QaOutputs { get; init; }
    /// <summary>MobileBERT with classifier_activation false: the pooler output is the first token's hidden state (no weights).</summary>
    public bool FirstTokenPooler { get; init; }
    /// <summary><see cref="Classifier"/> reads the mean of the attention-masked tokens' last hidden states (a 2_Dense_classifier
    /// folder, see <see cref="PooledClassifierFolder"/>), not the pooler or the first token.</summary>
    public bool MeanPooledClassifier { get; init; }
}

/// <summary>Masked-LM head: transform (dense → activation → LayerNorm) then a decoder tied to the word embeddings.</summary>
public sealed record MaskedLmWeights(
    LinearWeights Transform,        // [E, H]
    LayerNormWeights Norm,          // [E]
    ReadOnlyMemory<float> Decoder,  // [V, E] (the word embeddings when the checkpoint omits it)
    ReadOnlyMemory<float> Bias);    // [V]
