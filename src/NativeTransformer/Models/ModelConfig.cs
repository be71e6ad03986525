using System.Text.Json;

namespace NativeTransformer.Models;

/// <summary>The encoder families we run. They share one encoder; they differ in config and weight names.
/// <see cref="Roberta"/> covers model_type roberta, xlm-roberta and camembert (same architecture and key names); <see cref="T5"/> is
/// the pre-norm RMSNorm block with relative position bias (<see cref="T5Options"/>);
/// <see cref="Longformer"/> is the RoBERTa block with sliding-window + global attention (<see cref="LongformerOptions"/>).</summary>
public enum ModelFamily { Bert, DistilBert, Albert, Roberta, MobileBert, T5, Longformer }

/// <summary>Feed-forward activation: <c>gelu</c> (exact, erf), <c>gelu_new</c>/<c>gelu_pytorch_tanh</c> (tanh approximation), <c>relu</c>.</summary>
public enum Activation { Gelu, GeluTanh, Relu }

/// <summary>What every "LayerNorm" of the model computes: <c>layer_norm</c> (statistics) or MobileBERT's <c>no_norm</c>
/// (element-wise x·weight + bias, no statistics), or T5's RMSNorm (x / rms(x) · weight, no mean, no bias).</summary>
public enum NormalizationType { LayerNorm, NoNorm, RmsNorm }

/// <summary>The one mapping from a config activation to the kernel epilogue that applies it.</summary>
public static class ActivationExtensions
{
    public static Kernels.Epilogue ToEpilogue(this Activation activation) => activation switch
    {
        Activation.Gelu => Kernels.Epilogue.Gelu,
        Activation.GeluTanh => Kernels.Epilogue.GeluTanh,
        _ => Kernels.Epilogue.Relu,
    };
}

/// <summary>
/// An immutable view of a Hugging Face <c>config.json</c>, normalised across families: DistilBERT's
/// <c>dim</c>/<c>n_layers</c>/<c>hidden_dim</c> become <see cref="HiddenSize"/>/<see cref="NumLayers"/>/<see cref="IntermediateSize"/>.
/// </summary>
public sealed record ModelConfig
{
    public static readonly IReadOnlyList<string> SupportedModelTypes = ["bert", "distilbert", "albert", "roberta", "xlm-roberta", "camembert", "mobilebert", "t5", "longformer"];
    public static readonly IReadOnlyList<string> SupportedActivations = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"];

    public required string ModelType { get; init; }
    public required ModelFamily Family { get; init; }
    /// <summary>The <c>architectures</c> list, e.g. BertForSequenceClassification (may be empty).</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int IntermediateSize { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    /// <summary>0 for DistilBERT, which has no token-type embeddings.</summary>
    public required int TypeVocabSize { get; init; }
    /// <summary>Size of the word/position/type embeddings; differs from <see cref="HiddenSize"/> only for ALBERT.</summary>
    public required int EmbeddingSize { get; init; }
    /// <summary>ALBERT: layers share weights within groups; N layers use <see cref="NumHiddenGroups"/> groups.</summary>
    public int NumHiddenGroups { get; init; } = 1;
    public int InnerGroupNum { get; init; } = 1;
    public required Activation HiddenAct { get; init; }
    public NormalizationType NormalizationType { get; init; } = NormalizationType.LayerNorm;
    /// <summary>Width of attention and of the feed-forward residual: MobileBERT's true_hidden_size (intra_bottleneck_size
    /// with bottlenecks), <see cref="HiddenSize"/> elsewhere.</summary>
    public int TrueHiddenSize { get; init; }
    /// <summary>MobileBERT's block options (null for the other families, whose blocks have none of them).</summary>
    public MobileBertOptions? MobileBert { get; init; }
    /// <summary>T5's encoder options (null for the other families): pre-norm blocks with RMSNorm, relative position bias.</summary>
    public T5Options? T5 { get; init; }
    /// <summary>Longformer's windows (null for the other families, whose attention is full).</summary>
    public LongformerOptions? Longformer { get; init; }
    /// <summary>MobileBERT: E-wide word rows (three of them with trigram_input) go through embedding_transformation to H
    /// before the position and token-type rows (H wide) are added. ALBERT projects after the embedding LayerNorm instead.</summary>
    public bool ProjectsWordEmbeddings => Family == ModelFamily.MobileBert;
    /// <summary>Width of the input to the embedding projection: 3E with MobileBERT's trigram input, else E.</summary>
    public int ProjectionInputSize => MobileBert is { TrigramInput: true } ? 3 * EmbeddingSize : EmbeddingSize;
    public required float LayerNormEps { get; init; }
    public int PadTokenId { get; init; }
    /// <summary>RoBERTa: position ids count from <see cref="PadTokenId"/> + 1 over the non-pad tokens of a row, and pad
    /// tokens take position <see cref="PadTokenId"/> (Hugging Face's create_position_ids_from_input_ids). Elsewhere
    /// token t has position t.</summary>
    public bool PositionsFromPadding => Family is ModelFamily.Roberta or ModelFamily.Longformer;
    /// <summary>Longest input (special tokens included) the position table covers: max_position_embeddings, less the
    /// pad_token_id + 1 rows RoBERTa reserves below its first position (514 − 2 = 512).</summary>
    public int MaxSequenceLength => PositionsFromPadding ? MaxPositionEmbeddings - PadTokenId - 1 : MaxPositionEmbeddings;
    /// <summary>Class names by index; empty when the config has none.</summary>
    public IReadOnlyDictionary<int, string> Id2Label { get; init; } = new Dictionary<int, string>();
    /// <summary>Hugging Face <c>problem_type</c>: null, single_label_classification, multi_label_classification or regression.
    /// With the classifier's label count it decides how logits become scores (<see cref="SequenceScoring"/>).</summary>
    public string? ProblemType { get; init; }
    /// <summary>A sentence-transformers CrossEncoder's activation (<c>sbert_ce_default_activation_function</c>, or
    /// <c>sentence_transformers.activation_fn</c>): Sigmoid or Identity; null when the config names none.</summary>
    public ScoreFunction? CrossEncoderActivation { get; init; }

    /// <summary>
    /// Hugging Face <c>pruned_heads</c>: for a layer (ALBERT: a layer group), the ORIGINAL indices (0..NumHeads-1) of the
    /// attention heads removed from it, ascending. Such a layer has <see cref="HeadsInLayer"/> heads, kept in their
    /// original order: query/key/value [heads·D, H], attention output [H, heads·D]; H and D are unchanged.
    /// </summary>
    public IReadOnlyDictionary<int, IReadOnlyList<int>> PrunedHeads { get; init; } = new Dictionary<int, IReadOnlyList<int>>();

    public int HeadSize => T5?.HeadSize ?? AttentionSize / NumHeads;
    /// <summary>Width of query/key/value and of the attention output's input, all heads (before pruning): num_heads · D.
    /// Equals <see cref="AttentionSize"/> except in T5, where num_heads · d_kv may differ from d_model.</summary>
    public int AttentionInnerSize => NumHeads * HeadSize;
    /// <summary>All heads' width (before pruning): <see cref="TrueHiddenSize"/>, or H when unset.</summary>
    public int AttentionSize => TrueHiddenSize > 0 ? TrueHiddenSize : HiddenSize;
    /// <summary>Attention heads left in <paramref name="layer"/> (ALBERT: layer group) after <see cref="PrunedHeads"/>.</summary>
    public int HeadsInLayer(int layer) => NumHeads - (PrunedHeads.TryGetValue(layer, out var removed) ? removed.Count : 0);
    /// <summary>Distinct encoder weight sets: the layers, or ALBERT's shared layer groups (what pruned_heads keys index).</summary>
    public int WeightedLayers => Family == ModelFamily.Albert ? NumHiddenGroups : NumLayers;
    public string Architecture => Architectures.Count > 0 ? Architectures[0] : ModelType;
    /// <summary>True for a …ForTokenClassification checkpoint: its <c>classifier</c> reads every token, not the first.</summary>
    public bool IsTokenClassifier => Architectures.Any(a => a.EndsWith("ForTokenClassification", StringComparison.Ordinal));

    /// <summary>Largest config.json read (a real one is a few KB; a big id2label stays far below this).</summary>
    public const long MaxConfigBytes = 16 << 20;
    /// <summary>Sanity ceilings checked before anything is sized from the config (BERT-family models have at most
    /// 48 layers and 512 positions; these leave ample room while refusing a hostile 10^6-layer config).</summary>
    public const int MaxLayers = 1024, MaxPositions = 1 << 20;

    /// <summary>Reads and validates <c>config.json</c> (strict UTF-8, a leading BOM tolerated, at most
    /// <see cref="MaxConfigBytes"/>). Throws <see cref="ModelConfigException"/> naming the file.</summary>
    public static ModelConfig Load(string path)
    {
        string text;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxConfigBytes)
                throw new ModelConfigException($"{path}: {length} bytes, over the {MaxConfigBytes}-byte limit for a config.json; refusing to read it");
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path)).TrimStart('\uFEFF');
        }
        catch (FileNotFoundException) { throw new ModelConfigException($"{path}: not found (every model folder needs a config.json)"); }
        catch (System.Text.DecoderFallbackException e) { throw new ModelConfigException($"{path}: not valid UTF-8 ({e.Message})", e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelConfigException($"{path}: cannot read: {e.Message}", e); }
        return Parse(text, path);
    }

    /// <summary>Parses config.json text; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source = "config.json")
    {
        RawConfig raw;
        try { raw = JsonSerializer.Deserialize(json, ConfigJsonContext.Default.RawConfig) ?? throw new ModelConfigException($"{source}: is null"); }
        catch (JsonException e) { throw new ModelConfigException($"{source}: not valid JSON for a model config: {e.Message}", e); }
        return FromRaw(raw, source);
    }

    private static ModelConfig FromRaw(RawConfig r, string source)
    {
        string type = r.ModelType ?? throw new ModelConfigException($"{source}: no \"model_type\"; supported: {string.Join(", ", SupportedModelTypes)}");
        var family = type switch
        {
            "bert" => ModelFamily.Bert,
            "distilbert" => ModelFamily.DistilBert,
            "albert" => ModelFamily.Albert,
            "roberta" or "xlm-roberta" or "camembert" => ModelFamily.Roberta,
            "mobilebert" => ModelFamily.MobileBert,
            "t5" => ModelFamily.T5,
            "longformer" => ModelFamily.Longformer,
            _ => throw new ModelConfigException($"{source}: unsupported model_type \"{type}\"; supported: {string.Join(", ", SupportedModelTypes)}"),
        };
        bool distil = family == ModelFamily.DistilBert, t5 = family == ModelFamily.T5;
        if (r.PositionEmbeddingType is { } pet && pet != "absolute")
            throw new ModelConfigException($"{source}: position_embedding_type \"{pet}\" is not supported (only \"absolute\")");
        if (distil && r.SinusoidalPosEmbds == true)
            throw new ModelConfigException($"{source}: sinusoidal_pos_embds=true is not supported");

        string act = (distil ? r.Activation : r.HiddenAct) ?? (distil ? "gelu" : "gelu");
        var activation = t5 ? Activation.Relu : act switch
        {
            "gelu" => Activation.Gelu,
            "gelu_new" or "gelu_pytorch_tanh" => Activation.GeluTanh,
            "relu" => Activation.Relu,
            _ => throw new ModelConfigException($"{source}: unsupported activation \"{act}\"; supported: {string.Join(", ", SupportedActivations)}"),
        };

        // T5Config's names and defaults (t5-small's), for T5.
        int hidden = t5 ? Require(r.DModel ?? 512, "d_model", source) : Require(distil ? r.Dim : r.HiddenSize, distil ? "dim" : "hidden_size", source);
        int layers = t5 ? Require(r.NumLayers ?? 6, "num_layers", source) : Require(distil ? r.NLayers : r.NumHiddenLayers, distil ? "n_layers" : "num_hidden_layers", source);
        int heads = t5 ? Require(r.NumHeads ?? 8, "num_heads", source) : Require(distil ? r.NHeads : r.NumAttentionHeads, distil ? "n_heads" : "num_attention_heads", source);
        int inter = t5 ? Require(r.DFf ?? 2048, "d_ff", source) : Require(distil ? r.HiddenDim : r.IntermediateSize, distil ? "hidden_dim" : "intermediate_size", source);
        int vocab = Require(r.VocabSize ?? (t5 ? 32128 : null), "vocab_size", source);
        // T5 has no position table; n_positions (512) bounds the input length as the tokenizer's model_max_length does.
        int maxPos = t5 ? Require(r.NPositions ?? 512, "n_positions", source) : Require(r.MaxPositionEmbeddings ?? 512, "max_position_embeddings", source);
        int typeVocab = distil || t5 ? 0 : Require(r.TypeVocabSize ?? 2, "type_vocab_size", source);
        T5Options? t5Options = null;
        if (t5) (t5Options, activation) = T5Options.From(r, heads, source);
        bool mobile = family == ModelFamily.MobileBert;
        int embed = family is ModelFamily.Albert or ModelFamily.MobileBert ? Require(r.EmbeddingSize ?? 128, "embedding_size", source) : hidden;
        var mobileBert = mobile ? MobileBertOptions.From(r, hidden, heads, source) : null;
        int trueHidden = mobileBert?.TrueHiddenSize ?? hidden;
        var normalization = t5 ? NormalizationType.RmsNorm : (mobile ? r.NormalizationType ?? "no_norm" : "layer_norm") switch
        {
            "layer_norm" => NormalizationType.LayerNorm,
            "no_norm" => NormalizationType.NoNorm,
            var other => throw new ModelConfigException($"{source}: \"normalization_type\" \"{other}\" is not supported (\"no_norm\" or \"layer_norm\")"),
        };
        int groups = family == ModelFamily.Albert ? Require(r.NumHiddenGroups ?? 1, "num_hidden_groups", source) : 1;
        int inner = family == ModelFamily.Albert ? Require(r.InnerGroupNum ?? 1, "inner_group_num", source) : 1;
        if (!mobile && !t5 && hidden % heads != 0)
            throw new ModelConfigException($"{source}: hidden size {hidden} is not divisible by the number of attention heads {heads}");
        if (groups > layers)
            throw new ModelConfigException($"{source}: num_hidden_groups {groups} exceeds num_hidden_layers {layers}");
        if (inner != 1)
            throw new ModelConfigException($"{source}: inner_group_num {inner} is not supported (only 1)");
        // Refuse absurd sizes before anything is allocated from them (a 4 GB machine is the target).
        if (layers > MaxLayers)
            throw new ModelConfigException($"{source}: \"{(distil ? "n_layers" : t5 ? "num_layers" : "num_hidden_layers")}\" {layers} is absurdly large (limit {MaxLayers}); refusing to load");
        if (maxPos > MaxPositions)
            throw new ModelConfigException($"{source}: \"max_position_embeddings\" {maxPos} is absurdly large (limit {MaxPositions}); refusing to load");
        CheckSize((long)vocab * embed, "vocab_size × hidden", source);
        CheckSize((long)hidden * inter, "hidden × intermediate", source);
        CheckSize(3L * hidden * hidden, "3 × hidden × hidden (query/key/value)", source);
        if (t5) CheckSize(3L * hidden * t5Options!.InnerSize, "3 × d_model × num_heads · d_kv (q/k/v)", source);
        if (t5) CheckSize((long)t5Options!.RelativeAttentionNumBuckets * heads, "relative_attention_num_buckets × num_heads", source);
        CheckSize((long)maxPos * embed, "max_position_embeddings × hidden", source);
        CheckSize((long)typeVocab * embed, "type_vocab_size × hidden", source);
        if (family == ModelFamily.Albert) CheckSize((long)embed * hidden, "embedding_size × hidden", source);
        if (mobile) CheckSize(3L * embed * hidden, "3 × embedding_size × hidden (embedding_transformation)", source);
        if (mobile) CheckSize((long)trueHidden * inter, "intra_bottleneck_size × intermediate", source);

        // RobertaConfig's default pad_token_id is 1; it indexes the position table, so it must be a real row below the first position.
        // LongformerConfig's default pad_token_id is 1 as well.
        int pad = r.PadTokenId ?? (family is ModelFamily.Roberta or ModelFamily.Longformer ? 1 : 0);
        if (family is ModelFamily.Roberta or ModelFamily.Longformer)
        {
            if (pad < 0 || pad >= vocab)
                throw new ModelConfigException($"{source}: \"pad_token_id\" {pad} is outside the vocabulary (0..{vocab - 1}); RoBERTa positions are counted from it");
            if (maxPos <= pad + 1)
                throw new ModelConfigException($"{source}: \"max_position_embeddings\" {maxPos} leaves no position after pad_token_id {pad} " +
                    $"(RoBERTa positions start at pad_token_id + 1 = {pad + 1}; 514 is usual for pad_token_id 1)");
        }

        if (mobile && (pad < 0 || pad >= vocab))
            throw new ModelConfigException($"{source}: \"pad_token_id\" {pad} is outside the vocabulary (0..{vocab - 1}); MobileBERT's trigram input reads its embedding");

        double eps = distil ? 1e-12 : t5 ? r.LayerNormEpsilon ?? 1e-6 : (r.LayerNormEps ?? 1e-12);
        // Checked as float too: 1e-120 is a positive double but a zero float, and LayerNorm divides by sqrt(var + eps).
        if (!(eps > 0 && eps < 1 && (float)eps > 0))
            throw new ModelConfigException($"{source}: {(t5 ? "layer_norm_epsilon" : "layer_norm_eps")} {eps} is out of range (0 < eps < 1, representable as float32)");

        var labels = new Dictionary<int, string>();
        if (r.Id2Label != null)
            foreach (var (k, v) in r.Id2Label)
            {
                if (!int.TryParse(k, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                    throw new ModelConfigException($"{source}: id2label key \"{k}\" is not a non-negative integer");
                if (v is null) throw new ModelConfigException($"{source}: id2label[\"{k}\"] is null, expected a label name");
                if (!labels.TryAdd(id, v)) throw new ModelConfigException($"{source}: id2label names label {id} twice");
            }

        var longformer = family == ModelFamily.Longformer ? LongformerOptions.From(r, layers, source) : null;
        var pruned = PrunedHeadsFrom(r.PrunedHeads, family == ModelFamily.Albert ? groups : layers, heads, source);

        return new ModelConfig
        {
            ModelType = type, Family = family, Architectures = r.Architectures ?? [],
            VocabSize = vocab, HiddenSize = hidden, NumLayers = layers, NumHeads = heads, IntermediateSize = inter,
            MaxPositionEmbeddings = maxPos, TypeVocabSize = typeVocab, EmbeddingSize = embed,
            NumHiddenGroups = groups, InnerGroupNum = inner, HiddenAct = activation, LayerNormEps = (float)eps,
            NormalizationType = normalization, TrueHiddenSize = trueHidden, MobileBert = mobileBert, T5 = t5Options, Longformer = longformer,
            PadTokenId = pad, Id2Label = labels, PrunedHeads = pruned,
            ProblemType = SequenceScoring.CheckProblemType(r.ProblemType, source),
            CrossEncoderActivation = SequenceScoring.ParseActivation(r, source),
        };
    }

    /// <summary>This config after keeping only <paramref name="kept"/> (ascending original indices) of the layers:
    /// the layer count and the pruned_heads keys renumbered 0..k-1 (ALBERT keys name groups and stay).</summary>
    public ModelConfig KeepLayers(IReadOnlyList<int> kept)
    {
        // Longformer's per-layer windows follow their layers.
        var longformer = Longformer is { } lf ? lf with { AttentionWindow = kept.Select(i => lf.AttentionWindow[i]).ToArray() } : null;
        if (Family == ModelFamily.Albert || PrunedHeads.Count == 0) return this with { NumLayers = kept.Count, Longformer = longformer };
        var renumbered = new Dictionary<int, IReadOnlyList<int>>();
        for (int j = 0; j < kept.Count; j++)
            if (PrunedHeads.TryGetValue(kept[j], out var removed)) renumbered[j] = removed;
        return this with { NumLayers = kept.Count, PrunedHeads = renumbered, Longformer = longformer };
    }

    /// <summary>Validates pruned_heads: integer layer keys in range, head indices in range and distinct, a head left per layer.</summary>
    private static Dictionary<int, IReadOnlyList<int>> PrunedHeadsFrom(Dictionary<string, int[]>? raw, int layers, int heads, string source)
    {
        var result = new Dictionary<int, IReadOnlyList<int>>();
        if (raw is null) return result;
        foreach (var (key, list) in raw)
        {
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer) || layer >= layers)
                throw new ModelConfigException($"{source}: pruned_heads key \"{key}\" is not a layer index in 0..{layers - 1}");
            var removed = new SortedSet<int>();
            foreach (int head in list ?? throw new ModelConfigException($"{source}: pruned_heads[\"{key}\"] is null, expected a list of head indices"))
            {
                if (head < 0 || head >= heads)
                    throw new ModelConfigException($"{source}: pruned_heads[\"{key}\"] names head {head}; heads are 0..{heads - 1}");
                if (!removed.Add(head))
                    throw new ModelConfigException($"{source}: pruned_heads[\"{key}\"] names head {head} twice");
            }
            if (removed.Count == heads)
                throw new ModelConfigException($"{source}: pruned_heads[\"{key}\"] removes all {heads} heads of layer {layer}; at least one must remain");
            if (removed.Count > 0) result[layer] = removed.ToArray();
        }
        return result;
    }

    internal static int Require(int? value, string name, string source) => value switch
    {
        null => throw new ModelConfigException($"{source}: \"{name}\" is missing"),
        <= 0 => throw new ModelConfigException($"{source}: \"{name}\" must be positive, got {value}"),
        _ => value.Value,
    };

    /// <summary>No single weight matrix may exceed 2^31 floats (the largest span .NET indexes; far beyond any BERT).</summary>
    private static void CheckSize(long elements, string what, string source)
    {
        if (elements > int.MaxValue)
            throw new ModelConfigException($"{source}: {what} = {elements} elements is absurdly large; refusing to load");
    }
}
