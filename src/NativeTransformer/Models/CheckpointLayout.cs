namespace NativeTransformer.Models;

/// <summary>
/// The one place that knows each family's checkpoint key names. Base-model keys carry the
/// family prefix (<c>bert.</c>, <c>distilbert.</c>, <c>albert.</c>, <c>roberta.</c> — also for XLM-R and CamemBERT) in task checkpoints
/// (…ForSequenceClassification, …ForMaskedLM) and none in bare-model checkpoints (BertModel,
/// sentence-transformers); <c>DetectPrefix</c> decides which by looking for the word embeddings.
/// </summary>
internal sealed record LayerKeys(string Query, string Key, string Value, string AttentionOutput, string AttentionNorm,
    string Intermediate, string Output, string OutputNorm)
{
    /// <summary>MobileBERT: the bottleneck Linear+norm pairs (key of the Linear, key of its norm) and the stacked FFNs
    /// before the last (intermediate, output, output norm); null / empty elsewhere.</summary>
    public (string Dense, string Norm)? InputBottleneck { get; init; }
    public (string Dense, string Norm)? AttentionBottleneck { get; init; }
    public (string Dense, string Norm)? OutputBottleneck { get; init; }
    public (string Intermediate, string Output, string Norm)[] ExtraFeedForwards { get; init; } = [];
    /// <summary>T5's gated FFN: the Linear (wi_1) whose output multiplies act(<see cref="Intermediate"/>) (wi_0); null elsewhere.</summary>
    public string? Gate { get; init; }
    /// <summary>Longformer: the projections global tokens attend with (attention.self.query_global, key_global,
    /// value_global); null elsewhere.</summary>
    public (string Query, string Key, string Value)? Global { get; init; }

    /// <summary>Every Linear of the layer (query, key, value, attention output, intermediate, output, then MobileBERT's / T5's gate).</summary>
    public IEnumerable<string> Linears()
    {
        string[] core = [Query, Key, Value, AttentionOutput, Intermediate, Output];
        foreach (var k in core) yield return k;
        if (Gate is { } gate) yield return gate;
        foreach (var b in new[] { InputBottleneck, AttentionBottleneck, OutputBottleneck })
            if (b is { } pair) yield return pair.Item1;
        foreach (var f in ExtraFeedForwards) { yield return f.Intermediate; yield return f.Output; }
        if (Global is { } g) { yield return g.Query; yield return g.Key; yield return g.Value; }
    }

    /// <summary>Every module key of the layer (Linears and norms), each followed in the checkpoint by .weight/.bias.</summary>
    public IEnumerable<string> All()
    {
        foreach (var k in Linears()) yield return k;
        yield return AttentionNorm; yield return OutputNorm;
        foreach (var b in new[] { InputBottleneck, AttentionBottleneck, OutputBottleneck })
            if (b is { } pair) yield return pair.Item2;
        foreach (var f in ExtraFeedForwards) yield return f.Norm;
    }
}

internal sealed record CheckpointLayout
{
    public string Prefix { get; init; } = "";
    private readonly string? _wordEmbeddings;
    public string WordEmbeddings { get => _wordEmbeddings ?? Prefix + "embeddings.word_embeddings.weight"; init => _wordEmbeddings = value; }
    /// <summary>False for T5: its Linear layers have no bias tensors.</summary>
    public bool LinearBiases { get; init; } = true;
    /// <summary>T5: the norm after the last block (final_layer_norm) and the relative position bias table every block uses
    /// (stored in the first block); null elsewhere.</summary>
    public string? FinalNorm { get; init; }
    public string? RelativeAttentionBias { get; init; }
    public string PositionEmbeddings => Prefix + "embeddings.position_embeddings.weight";
    /// <summary>null for DistilBERT, which has no token types.</summary>
    public string? TokenTypeEmbeddings { get; init; }
    public string EmbeddingNorm => Prefix + "embeddings.LayerNorm";
    /// <summary>ALBERT's E → H projection; null elsewhere.</summary>
    public string? EmbeddingProjection { get; init; }
    /// <summary>Keys of the weights that encoder layer (or ALBERT group) <c>i</c> reads.</summary>
    public Func<int, LayerKeys> Layer { get; init; } = _ => throw new InvalidOperationException();
    /// <summary>What every per-layer key starts with before the layer index (<c>…encoder.layer.</c>); null for ALBERT,
    /// whose shared groups are not per layer.</summary>
    public string? LayerPrefix { get; init; }
    public string? Pooler { get; init; }
    /// <summary>The dense layer between the first token and the classifier: DistilBERT's pre_classifier (then ReLU),
    /// RoBERTa's classifier.dense (then tanh). Null where the classifier reads the pooler output (BERT, ALBERT).</summary>
    public string? PreClassifier { get; init; }
    public HeadActivation PreClassifierActivation { get; init; } = HeadActivation.Relu;
    public string Classifier { get; init; } = "classifier";
    /// <summary>…ForTokenClassification's Linear on every token: <c>classifier</c> in every family (RoBERTa's too: no dense/out_proj).</summary>
    public string TokenClassifier { get; init; } = "classifier";
    public string MaskedLmTransform { get; init; } = "";
    public string MaskedLmNorm { get; init; } = "";
    public string MaskedLmDecoder { get; init; } = "";
    public string MaskedLmBias { get; init; } = "";
    /// <summary>…ForQuestionAnswering: Linear [2, H] on every token (start, end logits); the same name in every family.</summary>
    public string QaOutputs { get; init; } = "qa_outputs";

    public static CheckpointLayout For(ModelFamily family, string p) => family switch
    {
        ModelFamily.Bert => new()
        {
            Prefix = p,
            TokenTypeEmbeddings = p + "embeddings.token_type_embeddings.weight",
            LayerPrefix = p + "encoder.layer.",
            Layer = i => Keys($"{p}encoder.layer.{i}.", "attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"),
            Pooler = p + "pooler.dense",
            MaskedLmTransform = "cls.predictions.transform.dense",
            MaskedLmNorm = "cls.predictions.transform.LayerNorm",
            MaskedLmDecoder = "cls.predictions.decoder.weight",
            MaskedLmBias = "cls.predictions.bias",
        },
        ModelFamily.DistilBert => new()
        {
            Prefix = p,
            LayerPrefix = p + "transformer.layer.",
            Layer = i => Keys($"{p}transformer.layer.{i}.", "attention.q_lin", "attention.k_lin", "attention.v_lin",
                "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"),
            PreClassifier = "pre_classifier",
            MaskedLmTransform = "vocab_transform",
            MaskedLmNorm = "vocab_layer_norm",
            MaskedLmDecoder = "vocab_projector.weight",
            MaskedLmBias = "vocab_projector.bias",
        },
        ModelFamily.Albert => new()
        {
            Prefix = p,
            TokenTypeEmbeddings = p + "embeddings.token_type_embeddings.weight",
            EmbeddingProjection = p + "encoder.embedding_hidden_mapping_in",
            Layer = g => Keys($"{p}encoder.albert_layer_groups.{g}.albert_layers.0.", "attention.query", "attention.key", "attention.value",
                "attention.dense", "attention.LayerNorm", "ffn", "ffn_output", "full_layer_layer_norm"),
            Pooler = p + "pooler",
            MaskedLmTransform = "predictions.dense",
            MaskedLmNorm = "predictions.LayerNorm",
            MaskedLmDecoder = "predictions.decoder.weight",
            MaskedLmBias = "predictions.bias",
        },
        // BERT's embedding and layer names; the heads are RobertaClassificationHead and RobertaLMHead.
        ModelFamily.Roberta => For(ModelFamily.Bert, p) with
        {
            PreClassifier = "classifier.dense",
            PreClassifierActivation = HeadActivation.Tanh,
            Classifier = "classifier.out_proj",
            MaskedLmTransform = "lm_head.dense",
            MaskedLmNorm = "lm_head.layer_norm",
            MaskedLmDecoder = "lm_head.decoder.weight",
            MaskedLmBias = "lm_head.bias",
        },
        // RoBERTa's embeddings, block and classification head (dense + tanh + out_proj), plus the global projections.
        ModelFamily.Longformer => For(ModelFamily.Roberta, p) with
        {
            Layer = i =>
            {
                string l = $"{p}encoder.layer.{i}.";
                return Keys(l, "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                    "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm") with
                {
                    Global = (l + "attention.self.query_global", l + "attention.self.key_global", l + "attention.self.value_global"),
                };
            },
            MaskedLmTransform = "", MaskedLmNorm = "", MaskedLmDecoder = "", MaskedLmBias = "", // LongformerLMHead is not wired up
        },
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>MobileBERT: BERT's names for attention, the last FFN and their norms, plus the bottlenecks and the other FFNs
    /// (ffn.0 … ffn.N-2; the N-th FFN is intermediate/output). Which bottlenecks exist follows the config.</summary>
    public static CheckpointLayout ForMobileBert(MobileBertOptions m, string p) => For(ModelFamily.Bert, p) with
    {
        EmbeddingProjection = p + "embeddings.embedding_transformation",
        Pooler = m.ClassifierActivation ? p + "pooler.dense" : null,
        MaskedLmTransform = "", MaskedLmNorm = "", MaskedLmDecoder = "", MaskedLmBias = "", // MobileBertLMPredictionHead is not run
        Layer = i =>
        {
            string l = $"{p}encoder.layer.{i}.";
            return Keys(l, "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm") with
            {
                InputBottleneck = m.UseBottleneck ? (l + "bottleneck.input.dense", l + "bottleneck.input.LayerNorm") : null,
                AttentionBottleneck = m.KeyQuerySharedBottleneck && !m.UseBottleneckAttention ? (l + "bottleneck.attention.dense", l + "bottleneck.attention.LayerNorm") : null,
                OutputBottleneck = m.UseBottleneck ? (l + "output.bottleneck.dense", l + "output.bottleneck.LayerNorm") : null,
                ExtraFeedForwards = Enumerable.Range(0, m.NumFeedforwardNetworks - 1)
                    .Select(j => ($"{l}ffn.{j}.intermediate.dense", $"{l}ffn.{j}.output.dense", $"{l}ffn.{j}.output.LayerNorm")).ToArray(),
            };
        },
    };

    /// <summary>T5EncoderModel (a full T5 checkpoint too: its decoder.* keys are not read): shared.weight, then encoder.block.i
    /// with layer.0 = self-attention (q, k, v, o, layer_norm) and layer.1 = the FFN (DenseReluDense wi/wo, or wi_0/wi_1/wo
    /// when gated, layer_norm). No biases; the embedding has no positions, types or norm (EmbeddingNorm is not read).</summary>
    public static CheckpointLayout ForT5(T5Options t5) => new()
    {
        WordEmbeddings = "shared.weight",
        LinearBiases = false,
        LayerPrefix = "encoder.block.",
        Layer = i =>
        {
            string l = $"encoder.block.{i}.";
            return Keys(l, "layer.0.SelfAttention.q", "layer.0.SelfAttention.k", "layer.0.SelfAttention.v", "layer.0.SelfAttention.o",
                "layer.0.layer_norm", t5.IsGatedAct ? "layer.1.DenseReluDense.wi_0" : "layer.1.DenseReluDense.wi", "layer.1.DenseReluDense.wo",
                "layer.1.layer_norm") with { Gate = t5.IsGatedAct ? l + "layer.1.DenseReluDense.wi_1" : null };
        },
        FinalNorm = "encoder.final_layer_norm",
        RelativeAttentionBias = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
    };

    /// <summary>The layout of <paramref name="config"/>'s family (MobileBERT's and T5's depend on their options).</summary>
    public static CheckpointLayout For(ModelConfig config, string p) =>
        config.MobileBert is { } m ? ForMobileBert(m, p) : config.T5 is { } t5 ? ForT5(t5) : For(config.Family, p);

    private static LayerKeys Keys(string layer, string q, string k, string v, string o, string oNorm, string i, string output, string outNorm) =>
        new(layer + q, layer + k, layer + v, layer + o, layer + oNorm, layer + i, layer + output, layer + outNorm);

    public static string FamilyPrefix(ModelFamily family) => family switch
    {
        ModelFamily.Bert => "bert.",
        ModelFamily.DistilBert => "distilbert.",
        ModelFamily.Roberta => "roberta.",
        ModelFamily.MobileBert => "mobilebert.",
        ModelFamily.T5 => "",
        ModelFamily.Longformer => "longformer.",
        _ => "albert.",
    };

    /// <summary>The family prefix when the checkpoint uses it, else "" (bare model).</summary>
    public static string DetectPrefix(ModelFamily family, Func<string, bool> has)
    {
        string p = FamilyPrefix(family);
        return has(p + "embeddings.word_embeddings.weight") || !has("embeddings.word_embeddings.weight") ? p : "";
    }
}
