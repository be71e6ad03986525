using System.Runtime.InteropServices;
using NativeTransformer.Compression;
using NativeTransformer.Kernels.Int8;
using NativeTransformer.Weights;

namespace NativeTransformer.Models;

/// <summary>
/// Binds checkpoint tensors to <see cref="EncoderWeights"/> and <see cref="HeadWeights"/>, checking
/// each tensor's presence, dtype and shape against the config. Every failure is a
/// <see cref="WeightException"/> naming the full checkpoint key. Loading and <c>inspect</c> both go
/// through here, so a folder that inspects clean also loads.
/// An encoder Linear weight stored as I8 (a <c>weights-tools quantize</c> folder, see <see cref="QuantizationFormat"/>)
/// binds straight to a packed <see cref="QuantizedMatrix"/> with its <c>_scale</c> tensor; I8 word embeddings bind to an
/// <see cref="Int8EmbeddingTable"/>. No fp32 copy of either is made.
/// Every float tensor bound (Linear weights, biases, embeddings, LayerNorm, heads) is scanned for NaN/Inf once
/// (<see cref="NonFinite"/>) as <paramref name="nonFinite"/> says: Refuse makes the first one found a <see cref="WeightException"/>,
/// Count only records them in <see cref="NonFiniteCounts"/> (inspect, or LoadOptions.AllowNonFiniteWeights), Skip does not
/// scan (the packed-weights cache vouches that these exact files were scanned clean before).
/// </summary>
internal sealed partial class WeightBinder(ITensorSource source, ModelConfig config, NonFiniteCheck nonFinite = NonFiniteCheck.Refuse)
{
    private readonly CheckpointLayout _keys = CheckpointLayout.For(config,
        CheckpointLayout.DetectPrefix(config.Family, name => source.TryGetInfo(name, out _)));
    private readonly HashSet<string> _used = [];

    /// <summary>Keys the model read; the rest of the checkpoint is unused (buffers, other heads).</summary>
    public IReadOnlySet<string> UsedKeys => _used;

    private readonly Dictionary<string, long> _nonFinite = new(StringComparer.Ordinal);

    /// <summary>Bound float tensors holding NaN/Inf, with their count (only filled when not refusing them).</summary>
    public IReadOnlyDictionary<string, long> NonFiniteCounts => _nonFinite;

    /// <summary>Binds the embeddings and the encoder layers; with <paramref name="keep"/> (ascending layer indices) only
    /// those layers, in order: the dropped layers' tensors are never looked at.</summary>
    public EncoderWeights BindEncoder(IReadOnlyList<int>? keep = null)
    {
        CheckQuantizationMarker();
        int e = config.EmbeddingSize, h = config.HiddenSize;
        // MobileBERT projects the word rows first, so positions, token types and the norm are H wide.
        int summed = config.ProjectsWordEmbeddings ? h : e;
        var embeddings = new EmbeddingWeights(
            Word: Embedding(WordEmbeddingsKey(), config.VocabSize, e),
            // T5: word rows only (relative positions are an attention bias; no types, no norm).
            Position: config.T5 is null ? Tensor(_keys.PositionEmbeddings, config.MaxPositionEmbeddings, summed) : ReadOnlyMemory<float>.Empty,
            TokenType: _keys.TokenTypeEmbeddings is { } tt ? Tensor(tt, config.TypeVocabSize, summed) : ReadOnlyMemory<float>.Empty,
            Norm: config.T5 is null ? Norm(_keys.EmbeddingNorm, summed) : null,
            Projection: _keys.EmbeddingProjection is { } p ? Linear(p, h, config.ProjectionInputSize) : null);

        // ALBERT shares one set of weights per group: layer i runs group i / (layers / groups), as Hugging Face does.
        // The group of a kept layer is that of its original index.
        int groups = config.Family == ModelFamily.Albert ? config.NumHiddenGroups : config.NumLayers;
        var distinct = new EncoderLayerWeights?[groups];
        IReadOnlyList<int> indices = keep ?? Enumerable.Range(0, config.NumLayers).ToArray();
        var layers = new EncoderLayerWeights[indices.Count];
        for (int j = 0; j < layers.Length; j++)
        {
            int i = indices[j];
            int g = config.Family == ModelFamily.Albert ? (int)(i / ((double)config.NumLayers / groups)) : i;
            layers[j] = distinct[g] ??= Layer(g);
        }
        return new EncoderWeights(embeddings, layers)
        {
            FinalNorm = _keys.FinalNorm is { } fn ? Norm(fn, h) : null,
            RelativeAttentionBias = _keys.RelativeAttentionBias is { } rab
                ? Tensor(rab, config.T5!.RelativeAttentionNumBuckets, config.NumHeads) : ReadOnlyMemory<float>.Empty,
        };
    }

    /// <summary>T5 checkpoints tie encoder.embed_tokens to shared and usually store only shared.weight; a file that kept
    /// only the encoder's copy is read from it.</summary>
    private string WordEmbeddingsKey() =>
        config.T5 is not null && !Has(_keys.WordEmbeddings) && Has("encoder.embed_tokens.weight") ? "encoder.embed_tokens.weight" : _keys.WordEmbeddings;

    public HeadWeights BindHeads()
    {
        int h = config.HiddenSize;
        // MobileBERT's pooler dense is required when classifier_activation says it runs; otherwise its pooler is the first token.
        LinearWeights? pooler = _keys.Pooler is { } pk && (Has(pk + ".weight") || config.MobileBert is not null) ? Linear(pk, h, h) : null;
        bool firstToken = config.MobileBert is { ClassifierActivation: false };
        LinearWeights? pre = _keys.PreClassifier is { } prk && Has(prk + ".weight") ? Linear(prk, h, h) : null;
        LinearWeights? classifier = null, tokenClassifier = null;
        // …ForTokenClassification: the same key "classifier", on every token (architectures decides, see ModelConfig).
        if (config.IsTokenClassifier) tokenClassifier = LabelledLinear(_keys.TokenClassifier);
        else if (Has(_keys.Classifier + ".weight"))
        {
            classifier = LabelledLinear(_keys.Classifier);
            // BERT/ALBERT classify the pooler output; DistilBERT and RoBERTa their own dense layer on the first token
            // (RoBERTa's optional roberta.pooler then only serves pooler_output).
            if (_keys.PreClassifier is null && pooler is null && !firstToken)
                throw new WeightException(_keys.Pooler + ".weight", $"{_keys.Pooler}.weight: missing; the classifier reads the pooler output");
            if (_keys.PreClassifier is { } preKey && pre is null)
                throw new WeightException(preKey + ".weight", $"{preKey}.weight: missing; the {config.ModelType} classifier ({_keys.Classifier}) reads it");
        }

        MaskedLmWeights? mlm = null;
        if (_keys.MaskedLmTransform.Length > 0 && Has(_keys.MaskedLmTransform + ".weight"))
        {
            int e = config.EmbeddingSize;
            // The decoder is tied to the word embeddings; older checkpoints also store a copy. Int8 word embeddings are
            // dequantized once here: the decoder is a full [V, E] GEMM, not a row lookup.
            var decoder = Has(_keys.MaskedLmDecoder) ? Tensor(_keys.MaskedLmDecoder, config.VocabSize, e)
                : Embedding(_keys.WordEmbeddings, config.VocabSize, e).ToFloat32();
            mlm = new MaskedLmWeights(Linear(_keys.MaskedLmTransform, e, h), Norm(_keys.MaskedLmNorm, e), decoder,
                Tensor(_keys.MaskedLmBias, config.VocabSize));
        }
        return new HeadWeights(pooler, pre, classifier, mlm, _keys.PreClassifierActivation) { TokenClassifier = tokenClassifier, QaOutputs = BindQaOutputs(), FirstTokenPooler = firstToken };
    }

    /// <summary>A classifier Linear [labels, H]: its label count from the weight's shape, checked against id2label.</summary>
    private LinearWeights LabelledLinear(string key)
    {
        int h = config.HiddenSize;
        var info = Info(key + ".weight");
        int classes = info.Shape.Length == 2 && info.Shape[0] is > 0 and <= 100_000 ? (int)info.Shape[0]
            : throw new WeightException(info.Name, $"{info.Name}: shape {info.ShapeText} is not [classes, {h}]");
        if (config.Id2Label.Count > 0 && config.Id2Label.Count != classes)
            throw new WeightException(info.Name, $"{info.Name}: {classes} classes but config.json id2label names {config.Id2Label.Count}");
        return Linear(key, classes, h);
    }

    /// <summary>Layer (ALBERT: group) <paramref name="g"/> by its original index, which is what pruned_heads keys name:
    /// its attention width is (heads left)·D.</summary>
    private EncoderLayerWeights Layer(int g)
    {
        var k = _keys.Layer(g);
        // t: the width attention and the FFNs work at (H except in MobileBERT's bottlenecked blocks).
        int h = config.HiddenSize, t = config.AttentionSize, i = config.IntermediateSize, a = config.HeadsInLayer(g) * config.HeadSize;
        var m = config.MobileBert;
        int qkIn = m is null ? h : t, vIn = m is null || m.UseBottleneckAttention || !m.UseBottleneck ? t : h;
        return new EncoderLayerWeights(
            Linear(k.Query, a, qkIn), Linear(k.Key, a, qkIn), Linear(k.Value, a, vIn),
            Linear(k.AttentionOutput, t, a), Norm(k.AttentionNorm, t),
            Linear(k.Intermediate, i, t), Linear(k.Output, t, i), Norm(k.OutputNorm, t))
        {
            InputBottleneck = k.InputBottleneck is { } ib ? new(Linear(ib.Dense, t, h), Norm(ib.Norm, t)) : null,
            AttentionBottleneck = k.AttentionBottleneck is { } ab ? new(Linear(ab.Dense, t, h), Norm(ab.Norm, t)) : null,
            ExtraFeedForwards = k.ExtraFeedForwards.Select(f => new FeedForwardWeights(Linear(f.Intermediate, i, t), Linear(f.Output, t, i), Norm(f.Norm, t))).ToArray(),
            OutputBottleneck = k.OutputBottleneck is { } ob ? new(Linear(ob.Dense, h, t), Norm(ob.Norm, h)) : null,
            SeparateValue = m?.SeparateValue == true,
            Gate = k.Gate is { } gate ? Linear(gate, i, t) : null,
            Global = k.Global is { } gk ? (Linear(gk.Query, a, h), Linear(gk.Key, a, h), Linear(gk.Value, a, h)) : null,
        };
    }

    private LinearWeights Linear(string key, int outFeatures, int inFeatures)
    {
        string weight = key + ".weight";
        ReadOnlyMemory<float> Bias() => _keys.LinearBiases ? Tensor(key + ".bias", outFeatures) : ReadOnlyMemory<float>.Empty; // T5: none
        // Only encoder Linear weights may be I8 (the quantizer's selection); anywhere else Tensor() rejects the dtype.
        if (source.TryGetInfo(weight, out var info) && info.DType == DType.I8 && IsEncoderLinear(key))
            return new(key, ReadOnlyMemory<float>.Empty, Bias(), outFeatures, inFeatures, Quantized(weight, outFeatures, inFeatures));
        var w = Tensor(weight, outFeatures, inFeatures);
        return new(key, w, Bias(), outFeatures, inFeatures);
    }

    private HashSet<string>? _encoderLinears;

    /// <summary>True for the query/key/value/attention-output/intermediate/output Linear of an encoder layer (ALBERT: group).</summary>
    private bool IsEncoderLinear(string key)
    {
        if (_encoderLinears is null)
        {
            _encoderLinears = new HashSet<string>(StringComparer.Ordinal);
            int count = config.Family == ModelFamily.Albert ? config.NumHiddenGroups : config.NumLayers;
            for (int i = 0; i < count; i++)
            {
                var k = _keys.Layer(i);
                _encoderLinears.UnionWith(k.Linears());
            }
        }
        return _encoderLinears.Contains(key);
    }

    /// <summary>An I8 [rows, cols] weight and its F32 [rows] scales, checked (packed later, by the layer builder).</summary>
    private Int8Weight Quantized(string key, int rows, int cols)
    {
        if (cols > QuantizedMatrix.MaxK) throw new WeightException(key, $"{key}: {cols} input features exceed the int8 kernels' limit {QuantizedMatrix.MaxK}");
        Int8Rows(key, rows, cols);
        return new Int8Weight(source, key, Scales(key, rows), rows, cols);
    }

    /// <summary>The word embeddings: fp32 (any float dtype), or I8 rows with per-row scales.</summary>
    private EmbeddingTable Embedding(string key, int rows, int width)
    {
        if (source.TryGetInfo(key, out var info) && info.DType == DType.I8)
        {
            Int8Rows(key, rows, width);
            return new Int8EmbeddingTable(source, key, Scales(key, rows), rows, width);
        }
        return EmbeddingTable.FromFloat32(Tensor(key, rows, width), rows, width);
    }

    private ReadOnlySpan<sbyte> Int8Rows(string key, int rows, int cols)
    {
        var info = Info(key);
        if (!info.Shape.SequenceEqual(new long[] { rows, cols }))
            throw new WeightException(key, $"{key}: shape {info.ShapeText}, expected [{rows}, {cols}] from config.json");
        _used.Add(key);
        return MemoryMarshal.Cast<byte, sbyte>(source.GetBytes(key));
    }

    /// <summary>The scales of I8 tensor <paramref name="key"/>: F32 [rows], finite and non-negative. (Not counted as parameters.)</summary>
    private ReadOnlyMemory<float> Scales(string key, int rows)
    {
        string scaleKey = QuantizationFormat.ScaleKey(key);
        if (!source.TryGetInfo(scaleKey, out var info))
            throw new WeightException(scaleKey, $"{key}: I8 tensor without its scale tensor '{scaleKey}' (F32 [{rows}])");
        if (info.DType != DType.F32 || !info.Shape.SequenceEqual(new long[] { rows }))
            throw new WeightException(scaleKey, $"{scaleKey}: {info.DType.HeaderName()} {info.ShapeText}, expected F32 [{rows}] (one scale per row of {key})");
        var scales = source.GetFloat32(scaleKey);
        var span = scales.Span;
        for (int r = 0; r < span.Length; r++)
            if (!float.IsFinite(span[r]) || span[r] < 0)
                throw new WeightException(scaleKey, $"{scaleKey}: scale {r} is {span[r]}; scales must be finite and non-negative");
        return scales;
    }

    /// <summary>Refuses a quantized folder whose format marker this runtime does not know (e.g. a future version).</summary>
    private void CheckQuantizationMarker()
    {
        if (source is SafetensorsFile file && file.Metadata.TryGetValue(QuantizationFormat.MetadataKey, out var marker)
            && marker is not (QuantizationFormat.Int8V1 or QuantizationFormat.Fp16))
            throw new WeightException("__metadata__", $"{file.Path}: __metadata__ {QuantizationFormat.MetadataKey} = '{marker}' is not a " +
                $"quantization format this runtime reads ('{QuantizationFormat.Int8V1}' or '{QuantizationFormat.Fp16}'); re-quantize with this version of weights-tools");
    }

    /// <summary>LayerNorm weight/bias; TF-converted checkpoints name them gamma/beta.</summary>
    private LayerNormWeights Norm(string key, int width)
    {
        if (config.NormalizationType == NormalizationType.RmsNorm) return new(key, Tensor(key + ".weight", width), ReadOnlyMemory<float>.Empty, width);
        bool legacy = !Has(key + ".weight") && Has(key + ".gamma");
        return new(key, Tensor(key + (legacy ? ".gamma" : ".weight"), width), Tensor(key + (legacy ? ".beta" : ".bias"), width), width);
    }

    private bool Has(string key) => source.TryGetInfo(key, out _);

    private TensorInfo Info(string key) =>
        source.TryGetInfo(key, out var info) ? info : throw new WeightException(key, $"{key}: missing from the checkpoint (model_type {config.ModelType})");

    private ReadOnlyMemory<float> Tensor(string key, params int[] shape)
    {
        var info = Info(key);
        if (info.DType is not (DType.F32 or DType.F16 or DType.BF16 or DType.F64))
            throw new WeightException(key, $"{key}: dtype {info.DType}, expected a floating-point type (F32, F16, BF16 or F64)");
        if (!info.Shape.AsSpan().SequenceEqual(Array.ConvertAll(shape, d => (long)d)))
            throw new WeightException(key, $"{key}: shape {info.ShapeText}, expected [{string.Join(", ", shape)}] from config.json");
        _used.Add(key);
        var values = source.GetFloat32(key);
        CheckFinite(key, values.Span);
        return values;
    }

    /// <summary>NaN/Inf in a weight silently turns every output it touches into NaN: refuse it at load, naming the tensor.</summary>
    private void CheckFinite(string key, ReadOnlySpan<float> values)
    {
        if (nonFinite == NonFiniteCheck.Skip || _nonFinite.ContainsKey(key)) return; // the tied decoder re-reads the word embeddings
        long bad = NonFinite.Count(values);
        if (bad == 0) return;
        if (nonFinite == NonFiniteCheck.Refuse)
        {
            int first = NonFinite.IndexOfFirst(values);
            throw new WeightException(key, $"{FileOf(key)}: {key}: {bad} non-finite value(s) (NaN/Inf), the first at flat index {first} " +
                $"({values[first]}); refusing to load (LoadOptions.AllowNonFiniteWeights loads it anyway)");
        }
        _nonFinite[key] = bad;
    }

    /// <summary>The file a tensor lives in, for error messages.</summary>
    private string FileOf(string key) => source switch
    {
        SafetensorsFile f => f.Path,
        ShardedTensorSource s => s.FileOf(key),
        _ => "checkpoint",
    };
}

/// <summary>What <see cref="WeightBinder"/> does about NaN/Inf in the float tensors it binds.</summary>
internal enum NonFiniteCheck { Refuse, Count, Skip }
