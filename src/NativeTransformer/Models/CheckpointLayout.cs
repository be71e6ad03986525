namespace NativeTransformer.Models;

/// <summary>
/// The one place that knows each family's checkpoint key names. Base-model keys carry the
/// family prefix (<c>bert.</c>, <c>distilbert.</c>, <c>albert.</c>) in task checkpoints
/// (…ForSequenceClassification, …ForMaskedLM) and none in bare-model checkpoints (BertModel,
/// sentence-transformers); <c>DetectPrefix</c> decides which by looking for the word embeddings.
/// </summary>
internal sealed record LayerKeys(string Query, string Key, string Value, string AttentionOutput, string AttentionNorm,
    string Intermediate, string Output, string OutputNorm);

internal sealed class CheckpointLayout
{
    public required string Prefix { get; init; }
    public required string WordEmbeddings { get; init; }
    public required string PositionEmbeddings { get; init; }
    public string? TokenTypeEmbeddings { get; init; }
    public required string EmbeddingNorm { get; init; }
    public string? EmbeddingProjection { get; init; }
    /// <summary>Keys of the weights that encoder layer (or ALBERT group) <c>i</c> reads.</summary>
    public required Func<int, LayerKeys> Layer { get; init; }
    public string? Pooler { get; init; }
    public string? PreClassifier { get; init; }
    public string Classifier { get; init; } = "classifier";
    public required string MaskedLmTransform { get; init; }
    public required string MaskedLmNorm { get; init; }
    public required string MaskedLmDecoder { get; init; }
    public required string MaskedLmBias { get; init; }

    public static CheckpointLayout For(ModelFamily family, string prefix) => family switch
    {
        ModelFamily.Bert => new()
        {
            Prefix = prefix,
            WordEmbeddings = prefix + "embeddings.word_embeddings.weight",
            PositionEmbeddings = prefix + "embeddings.position_embeddings.weight",
            TokenTypeEmbeddings = prefix + "embeddings.token_type_embeddings.weight",
            EmbeddingNorm = prefix + "embeddings.LayerNorm",
            Layer = i => new LayerKeys(
                $"{prefix}encoder.layer.{i}.attention.self.query", $"{prefix}encoder.layer.{i}.attention.self.key",
                $"{prefix}encoder.layer.{i}.attention.self.value", $"{prefix}encoder.layer.{i}.attention.output.dense",
                $"{prefix}encoder.layer.{i}.attention.output.LayerNorm", $"{prefix}encoder.layer.{i}.intermediate.dense",
                $"{prefix}encoder.layer.{i}.output.dense", $"{prefix}encoder.layer.{i}.output.LayerNorm"),
            Pooler = prefix + "pooler.dense",
            MaskedLmTransform = "cls.predictions.transform.dense",
            MaskedLmNorm = "cls.predictions.transform.LayerNorm",
            MaskedLmDecoder = "cls.predictions.decoder.weight",
            MaskedLmBias = "cls.predictions.bias",
        },
        ModelFamily.DistilBert => new()
        {
            Prefix = prefix,
            WordEmbeddings = prefix + "embeddings.word_embeddings.weight",
            PositionEmbeddings = prefix + "embeddings.position_embeddings.weight",
            EmbeddingNorm = prefix + "embeddings.LayerNorm",
            Layer = i => new LayerKeys(
                $"{prefix}transformer.layer.{i}.attention.q_lin", $"{prefix}transformer.layer.{i}.attention.k_lin",
                $"{prefix}transformer.layer.{i}.attention.v_lin", $"{prefix}transformer.layer.{i}.attention.out_lin",
                $"{prefix}transformer.layer.{i}.sa_layer_norm", $"{prefix}transformer.layer.{i}.ffn.lin1",
                $"{prefix}transformer.layer.{i}.ffn.lin2", $"{prefix}transformer.layer.{i}.output_layer_norm"),
            PreClassifier = "pre_classifier",
            MaskedLmTransform = "vocab_transform",
            MaskedLmNorm = "vocab_layer_norm",
            MaskedLmDecoder = "vocab_projector.weight",
            MaskedLmBias = "vocab_projector.bias",
        },
        ModelFamily.Albert => new()
        {
            Prefix = prefix,
            WordEmbeddings = prefix + "embeddings.word_embeddings.weight",
            PositionEmbeddings = prefix + "embeddings.position_embeddings.weight",
            TokenTypeEmbeddings = prefix + "embeddings.token_type_embeddings.weight",
            EmbeddingNorm = prefix + "embeddings.LayerNorm",
            EmbeddingProjection = prefix + "encoder.embedding_hidden_mapping_in",
            Layer = g => new LayerKeys(
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.attention.query",
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.attention.key",
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.attention.value",
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.attention.dense",
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.attention.LayerNorm",
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.ffn",
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.ffn_output",
                $"{prefix}encoder.albert_layer_groups.{g}.albert_layers.0.full_layer_layer_norm"),
            Pooler = prefix + "pooler",
            MaskedLmTransform = "predictions.dense",
            MaskedLmNorm = "predictions.LayerNorm",
            MaskedLmDecoder = "predictions.decoder.weight",
            MaskedLmBias = "predictions.bias",
        },
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    public static string FamilyPrefix(ModelFamily family) => family switch
    {
        ModelFamily.Bert => "bert.",
        ModelFamily.DistilBert => "distilbert.",
        _ => "albert.",
    };

    /// <summary>The family prefix when the checkpoint uses it, else "" (bare model).</summary>
    public static string DetectPrefix(ModelFamily family, Func<string, bool> has)
    {
        string p = FamilyPrefix(family);
        return has(p + "embeddings.word_embeddings.weight") || !has("embeddings.word_embeddings.weight") ? p : "";
    }
}
