using System.Text.Json.Serialization;

namespace NativeTransformer.Models;

/// <summary>config.json exactly as Hugging Face spells it (BERT/ALBERT and DistilBERT names side by side).
/// Deserialized with source generation so it works under Native AOT and trimming.</summary>
internal sealed class RawConfig
{
    [JsonPropertyName("model_type")] public string? ModelType { get; set; }
    [JsonPropertyName("architectures")] public string[]? Architectures { get; set; }
    [JsonPropertyName("vocab_size")] public int? VocabSize { get; set; }
    [JsonPropertyName("hidden_size")] public int? HiddenSize { get; set; }
    [JsonPropertyName("num_hidden_layers")] public int? NumHiddenLayers { get; set; }
    [JsonPropertyName("num_attention_heads")] public int? NumAttentionHeads { get; set; }
    [JsonPropertyName("intermediate_size")] public int? IntermediateSize { get; set; }
    [JsonPropertyName("hidden_act")] public string? HiddenAct { get; set; }
    [JsonPropertyName("max_position_embeddings")] public int? MaxPositionEmbeddings { get; set; }
    [JsonPropertyName("type_vocab_size")] public int? TypeVocabSize { get; set; }
    [JsonPropertyName("layer_norm_eps")] public double? LayerNormEps { get; set; }
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; set; }
    [JsonPropertyName("position_embedding_type")] public string? PositionEmbeddingType { get; set; }
    [JsonPropertyName("id2label")] public Dictionary<string, string>? Id2Label { get; set; }
    /// <summary>Structured pruning: {"layer": [original head indices removed]}.</summary>
    [JsonPropertyName("pruned_heads")] public Dictionary<string, int[]>? PrunedHeads { get; set; }
    // Sequence scores: how the classifier's logits become scores (SequenceScoring).
    [JsonPropertyName("problem_type")] public string? ProblemType { get; set; }
    /// <summary>sentence-transformers CrossEncoder (v2/v3) activation, e.g. "torch.nn.modules.activation.Sigmoid".</summary>
    [JsonPropertyName("sbert_ce_default_activation_function")] public string? SbertCeActivation { get; set; }
    /// <summary>sentence-transformers v4+ CrossEncoder settings: {"activation_fn": "torch.nn.modules.activation.Sigmoid"}.</summary>
    [JsonPropertyName("sentence_transformers")] public RawSentenceTransformersSection? SentenceTransformers { get; set; }
    // ALBERT
    [JsonPropertyName("embedding_size")] public int? EmbeddingSize { get; set; }
    [JsonPropertyName("num_hidden_groups")] public int? NumHiddenGroups { get; set; }
    [JsonPropertyName("inner_group_num")] public int? InnerGroupNum { get; set; }
    // MobileBERT
    [JsonPropertyName("normalization_type")] public string? NormalizationType { get; set; }
    [JsonPropertyName("trigram_input")] public bool? TrigramInput { get; set; }
    [JsonPropertyName("use_bottleneck")] public bool? UseBottleneck { get; set; }
    [JsonPropertyName("intra_bottleneck_size")] public int? IntraBottleneckSize { get; set; }
    [JsonPropertyName("use_bottleneck_attention")] public bool? UseBottleneckAttention { get; set; }
    [JsonPropertyName("key_query_shared_bottleneck")] public bool? KeyQuerySharedBottleneck { get; set; }
    [JsonPropertyName("num_feedforward_networks")] public int? NumFeedforwardNetworks { get; set; }
    [JsonPropertyName("classifier_activation")] public bool? ClassifierActivation { get; set; }
    // T5
    [JsonPropertyName("d_model")] public int? DModel { get; set; }
    [JsonPropertyName("d_kv")] public int? DKv { get; set; }
    [JsonPropertyName("d_ff")] public int? DFf { get; set; }
    [JsonPropertyName("num_layers")] public int? NumLayers { get; set; }
    [JsonPropertyName("num_heads")] public int? NumHeads { get; set; }
    [JsonPropertyName("n_positions")] public int? NPositions { get; set; }
    [JsonPropertyName("relative_attention_num_buckets")] public int? RelativeAttentionNumBuckets { get; set; }
    [JsonPropertyName("relative_attention_max_distance")] public int? RelativeAttentionMaxDistance { get; set; }
    [JsonPropertyName("layer_norm_epsilon")] public double? LayerNormEpsilon { get; set; }
    [JsonPropertyName("feed_forward_proj")] public string? FeedForwardProj { get; set; }
    // Longformer: an int or a list of one int per layer
    [JsonPropertyName("attention_window")] public System.Text.Json.JsonElement? AttentionWindow { get; set; }
    // DistilBERT
    [JsonPropertyName("dim")] public int? Dim { get; set; }
    [JsonPropertyName("n_layers")] public int? NLayers { get; set; }
    [JsonPropertyName("n_heads")] public int? NHeads { get; set; }
    [JsonPropertyName("hidden_dim")] public int? HiddenDim { get; set; }
    [JsonPropertyName("activation")] public string? Activation { get; set; }
    [JsonPropertyName("sinusoidal_pos_embds")] public bool? SinusoidalPosEmbds { get; set; }
}

internal sealed class RawSentenceTransformersSection
{
    [JsonPropertyName("activation_fn")] public string? ActivationFn { get; set; }
}

[JsonSourceGenerationOptions(AllowTrailingCommas = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(RawConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
