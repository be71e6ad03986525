using System.Collections.Concurrent;
using NativeTransformer.Kernels;
using NativeTransformer.Models;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;

namespace NativeTransformer;

/// <summary>
/// The library's entry point: a loaded Hugging Face BERT-family folder — config, tokenizer, weights
/// memory-mapped (zero-copy for F32) and whatever heads the checkpoint has. Thread-safe: concurrent
/// calls each use their own preallocated <see cref="RunState"/>.
/// <code>
/// using var model = TransformerModel.Load("models/bert-mini-sst2");
/// var result = model.Classify(["a gorgeous, witty movie"])[0];   // result.Label == "positive"
/// </code>
/// </summary>
public sealed partial class TransformerModel : IDisposable
{
    private readonly ITensorSource _weights;
    private readonly Encoder _encoder;
    private readonly WorkerPool _pool;
    private readonly HeadWeights _heads;
    private readonly LoadOptions _options;
    private readonly ConcurrentBag<RunState> _states = [];
    private readonly bool _int8;
    private readonly Weights.PackedCache.PackedWeightsCache? _packCache; // owns the mapping cached operators read from

    public ModelConfig Config { get; }
    public ITokenizer Tokenizer { get; }
    /// <summary>Sentence-transformers settings of the folder, or null.</summary>
    public SentenceTransformersConfig? SentenceTransformers { get; }
    /// <summary>Effective max tokens per input (longer inputs follow <see cref="LoadOptions.Overflow"/>).</summary>
    public int MaxLength { get; }
    public bool HasClassifier => _heads.Classifier != null;
    public bool HasMaskedLm => _heads.MaskedLm != null;
    public bool HasPooler => _heads.Pooler != null || _heads.FirstTokenPooler;
    /// <summary>True when the folder carries a sentence-transformers pooling config.</summary>
    public bool HasPoolingConfig => SentenceTransformers != null;
    public int NumLabels => _heads.Classifier?.Out ?? _heads.TokenClassifier?.Out ?? 0;
    /// <summary>Pooling → Dense → Normalize and the prompts (sentence-transformers); set by <see cref="Load(string, LoadOptions?)"/>.</summary>
    private SentenceHead Sentence { get; init; } = null!;
    /// <summary>The prompts of the folder's config_sentence_transformers.json (none when absent).</summary>
    public SentencePrompts Prompts => Sentence.Prompts;
    /// <summary>Floats per sentence embedding: the hidden size, or the last sentence-transformers Dense module's out_features.</summary>
    public int EmbeddingSize => Sentence.Size;

    private TransformerModel(ModelConfig config, ITokenizer tokenizer, SentenceTransformersConfig? st, ITensorSource weights,
        EncoderWeights encoder, HeadWeights heads, LoadOptions options, int maxLength, Weights.PackedCache.PackedWeightsCache? packCache)
    {
        Config = config; Tokenizer = tokenizer; SentenceTransformers = st; _weights = weights; _heads = heads; _options = options;
        MaxLength = maxLength; _packCache = packCache;
        _pool = new WorkerPool(options.Threads);
        Func<LinearWeights, LinearOperator> fp32 = w => LinearOperatorFactory.Fp32(w.Weight.Span, w.Bias.Span, w.Out, w.In, options.SparseKernels);
        EncoderLayerBuilder.Fp32Builder fp32Layer = packCache is null ? (_, _, _, get) => fp32(get()) : (key, o, i, get) => packCache.Get(key, o, i, get, fp32);
        var layers = EncoderLayerBuilder.Build(encoder, options.Int8, options.Int8Layers, fp32Layer);
        // An int8 checkpoint runs int8 layers even without LoadOptions.Int8: the activation scratch follows the layers.
        _int8 = layers.Any(l => l.Operators().Any(o => o is QuantizedLinear));
        var projection = encoder.Embeddings.Projection is { } p ? fp32Layer(p.Key, p.Out, p.In, () => p) : null;
        packCache?.SaveIfChanged();
        _encoder = new Encoder(config, encoder.Embeddings, projection, layers, _pool, maxLength, encoder.FinalNorm, encoder.RelativeAttentionBias)
        {
            FirstTokenGlobalByDefault = options.GlobalAttention switch
            {
                GlobalAttentionDefault.FirstToken => true,
                GlobalAttentionDefault.None => false,
                _ => heads.Classifier is not null, // Hugging Face's LongformerForSequenceClassification: global attention on [CLS]
            },
        };
    }

    /// <summary>Loads a model folder (config.json, vocab.txt / tokenizer files, model.safetensors or a sharded index).
    /// Throws a <see cref="NativeTransformerException"/> subtype for anything wrong with the folder or options.</summary>
    public static TransformerModel Load(string directory, LoadOptions? options = null) => Load(directory, options, tokenizerOverride: null);

    /// <summary><see cref="Load(string, LoadOptions?)"/> with <paramref name="tokenizerOverride"/> in place of the folder's tokenizer
    /// files when given (tests that feed reference token ids to a folder whose tokenizer family is not read here).</summary>
    internal static TransformerModel Load(string directory, LoadOptions? options, ITokenizer? tokenizerOverride)
    {
        options ??= new LoadOptions();
        ValidateOptions(options);
        var (config, tokenizer, st) = ReadFolder(directory, options, tokenizerOverride);
        int maxLength = EffectiveMaxLength(config, tokenizer, st, options, directory);
        // Opened once, before the budget check: the estimate depends on what the cache holds (the file is ours, not a weight).
        var packCache = options.PackedWeightsCache is { } cacheDir ? Weights.PackedCache.PackedWeightsCache.Open(directory, cacheDir, options.SparseKernels) : null;
        ITensorSource weights;
        try
        {
            if (options.MaxMemoryBytes is long budget)
            {
                // Before the weights are opened: a model that cannot fit is refused without reading (or mapping) a weight byte.
                var estimate = MemoryEstimator.Estimate(config, tokenizer.VocabSize, options, maxLength, 1, SafetensorsHeaderReader.ReadFolder(directory),
                    packCache?.Use ?? MemoryEstimator.PackedCacheUse.None);
                if (estimate.TotalBytes > budget) throw new MemoryBudgetException(Path.GetFullPath(directory), estimate, budget, options);
            }
            weights = Checkpoint.Open(directory);
        }
        catch { packCache?.Dispose(); throw; }
        try
        {
            // The NaN/Inf scan reads every weight page; a cache file written after a clean scan of these same files skips it.
            var check = packCache?.SourceValidated == true ? NonFiniteCheck.Skip
                : options.AllowNonFiniteWeights ? NonFiniteCheck.Count : NonFiniteCheck.Refuse;
            var binder = new WeightBinder(weights, config, check);
            // Layer reduction: bind only the kept layers; the model then reports the reduced layer count.
            var kept = Compression.LayerSelection.Resolve(config.NumLayers, options);
            var encoder = binder.BindEncoder(kept);
            var heads = binder.BindHeads();
            (config, heads) = PooledClassifierFolder.Attach(directory, config, heads);
            if (check == NonFiniteCheck.Refuse && kept is null) packCache?.MarkSourceValidated(); // every tensor scanned, all finite
            if (kept is not null) config = config.KeepLayers(kept);
            var sentence = SentenceHead.Load(directory, st, options, config.HiddenSize);
            return new TransformerModel(config, tokenizer, st, weights, encoder, heads, options, maxLength, packCache) { Sentence = sentence };
        }
        catch (WeightException e) when (!e.Message.Contains(directory, StringComparison.Ordinal))
        {
            packCache?.Dispose(); weights.Dispose();
            throw new WeightException(e.Key, $"{directory}: {e.Message}", e); // name the folder too: messages give the key only
        }
        catch { packCache?.Dispose(); weights.Dispose(); throw; }
    }

    /// <summary>
    /// The peak memory (RSS) a process reaches loading <paramref name="directory"/> with <paramref name="options"/> and running
    /// batches of up to BatchSize × MaxLength tokens with <paramref name="concurrentCalls"/> calls at once (each concurrent call
    /// rents its own activation buffers). Reads config.json, the tokenizer files and the safetensors headers only — no weight
    /// bytes — so it is fast and safe on untrusted folders. Throws what <see cref="Load(string, LoadOptions?)"/> would for a bad config, tokenizer,
    /// header or option.
    /// </summary>
    public static MemoryEstimate EstimateMemory(string directory, LoadOptions? options = null, int concurrentCalls = 1)
    {
        options ??= new LoadOptions();
        ValidateOptions(options);
        if (concurrentCalls < 1) throw new InputException($"concurrent calls must be positive, got {concurrentCalls}");
        var (config, tokenizer, st) = ReadFolder(directory, options);
        int maxLength = EffectiveMaxLength(config, tokenizer, st, options, directory);
        var files = SafetensorsHeaderReader.ReadFolder(directory);
        if (files.Count == 0) Checkpoint.Open(directory).Dispose(); // throws the loader's "no weights" error
        return MemoryEstimator.Estimate(config, tokenizer.VocabSize, options, maxLength, concurrentCalls, files,
            Weights.PackedCache.PackedWeightsCache.Probe(directory, options.PackedWeightsCache, options.SparseKernels));
    }

    /// <summary>Validates a folder exactly as <see cref="Load(string, LoadOptions?)"/> would (config, tokenizer, every tensor's presence,
    /// dtype and shape) without building the runtime. A folder without a weights file reports HasWeights = false.</summary>
    public static ModelSummary Inspect(string directory)
    {
        var (config, tokenizer, st) = ReadFolder(directory);
        EffectiveMaxLength(config, tokenizer, st, new LoadOptions(), directory);
        bool hasWeights = File.Exists(Path.Combine(directory, "model.safetensors")) || File.Exists(Path.Combine(directory, "model.safetensors.index.json"));
        long parameters = 0, bytes = 0;
        var byDType = new SortedDictionary<string, int>();
        var heads = new List<string>();
        string? quantization = null;
        KeyValuePair<string, long>[] nonFinite = [];
        if (hasWeights)
        {
            using var weights = Checkpoint.Open(directory);
            if (weights is SafetensorsFile f && f.Metadata.TryGetValue(Compression.QuantizationFormat.MetadataKey, out var marker))
                quantization = f.Metadata.TryGetValue(Compression.QuantizationFormat.EmbeddingsKey, out var e) ? $"{marker} (embeddings {e})" : marker;
            var binder = new WeightBinder(weights, config, NonFiniteCheck.Count);
            binder.BindEncoder();
            var (withLabels, h) = PooledClassifierFolder.Attach(directory, config, binder.BindHeads());
            nonFinite = binder.NonFiniteCounts.OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
            foreach (var t in weights.Tensors)
            {
                byDType[t.DType.ToString()] = byDType.GetValueOrDefault(t.DType.ToString()) + 1;
                bytes += t.ByteLength;
                if (binder.UsedKeys.Contains(t.Name)) parameters += t.ElementCount;
            }
            if (h.Pooler != null) heads.Add("pooler");
            if (h.FirstTokenPooler) heads.Add("pooler (first token, no weights)");
            string labelNames = withLabels.Id2Label.Count > 0 ? ": " + string.Join(", ", withLabels.Id2Label.OrderBy(p => p.Key).Select(p => p.Value)) : "";
            if (h.TokenClassifier != null) heads.Add($"token-classifier ({h.TokenClassifier.Out} labels{labelNames})");
            if (h.Classifier != null) heads.Add($"classifier ({h.Classifier.Out} labels{labelNames})");
            if (h.MaskedLm != null) heads.Add("masked-lm");
            if (h.QaOutputs != null) heads.Add("question-answering");
        }
        if (st != null) heads.Add($"sentence-pooling ({st.Pooling.ToString().ToLowerInvariant()}{string.Concat(st.Dense.Select(d => $", dense {d.InFeatures}->{d.OutFeatures}"))}{(st.Normalize ? ", normalize" : "")})");
        var headsPerLayer = config.PrunedHeads.Count == 0 ? null : Enumerable.Range(0, config.NumLayers).Select(config.HeadsInLayer).ToArray();
        return new ModelSummary(Path.GetFullPath(directory), config.ModelType, config.Architecture, config.NumLayers, config.HiddenSize,
            config.NumHeads, config.IntermediateSize, config.VocabSize, parameters, bytes, byDType, heads, hasWeights, headsPerLayer, quantization)
        {
            NonFiniteWeights = nonFinite.Sum(p => p.Value),
            NonFiniteTensors = nonFinite.Select(p => p.Key).ToArray(),
        };
    }

    /// <summary>Sentence embeddings, one [<see cref="EmbeddingSize"/>] vector per input (pooling, Dense modules and
    /// normalisation from the folder or <see cref="LoadOptions"/>), with the default prompt (LoadOptions, else the folder's
    /// default_prompt_name) prepended.</summary>
    public float[][] Embed(IReadOnlyList<TextInput> inputs) => Embed(inputs, null, null);

    /// <summary>Sentence embeddings with a prompt, as sentence-transformers' encode(prompt_name=, prompt=): the text of
    /// <paramref name="promptName"/> (from config_sentence_transformers.json) or the literal <paramref name="prompt"/>
    /// ("" = none) is prepended to each input's text; both null = the default prompt. An unknown name throws
    /// <see cref="InputException"/> listing the model's prompt names.</summary>
    public float[][] Embed(IReadOnlyList<TextInput> inputs, string? promptName, string? prompt)
    {
        var results = EmbedResults(inputs, promptName, prompt);
        var vectors = new float[results.Length][];
        for (int i = 0; i < vectors.Length; i++) vectors[i] = results[i].Vector;
        return vectors;
    }

    /// <summary><see cref="Embed(IReadOnlyList{TextInput}, string?, string?)"/> with, per input, whether it was truncated
    /// and in how many windows it ran (<see cref="LoadOptions.Overflow"/>, docs/long-documents.md).</summary>
    public EmbeddingResult[] EmbedResults(IReadOnlyList<TextInput> inputs, string? promptName = null, string? prompt = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        string prefix = PromptPrefix(promptName, prompt);
        if (prefix.Length > 0)
        {
            var prefixed = new TextInput[inputs.Count];
            for (int i = 0; i < prefixed.Length; i++) prefixed[i] = inputs[i].Text is null ? inputs[i] : inputs[i] with { Text = prefix + inputs[i].Text };
            inputs = prefixed;
        }
        int h = Config.HiddenSize, e = EmbeddingSize;
        var rows = Rows(inputs);
        var pooled = new float[rows.Rows.Length][];
        RunRows(rows, inputs, (batch, state, index) =>
        {
            var p = Sentence.Pool(state.Hidden, batch, h);
            for (int r = 0; r < batch.BatchSize; r++) pooled[index[r]] = p.AsSpan(r * h, h).ToArray();
        });
        // Windows are averaged as pooled vectors, before Dense and Normalize: the document gets one pooling, then the head.
        var combined = CombineWindows(rows, pooled, h);
        var flat = new float[combined.Length * h];
        for (int i = 0; i < combined.Length; i++) combined[i].CopyTo(flat, i * h);
        var finished = Sentence.Finish(flat, combined.Length);
        var result = new EmbeddingResult[inputs.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = new EmbeddingResult(finished.AsSpan(i * e, e).ToArray(), rows.Truncated[i], rows.Windows(i)) { Tokens = rows.Tokens(i) };
        return result;
    }

    public float[][] Embed(IReadOnlyList<string> texts) => Embed(Inputs(texts));

    /// <summary>The text <see cref="Embed(IReadOnlyList{TextInput}, string?, string?)"/> prepends for these arguments.</summary>
    public string PromptPrefix(string? promptName, string? prompt) => Sentence.Prefix(promptName, prompt);

    /// <summary>How the classifier's logits become scores (<see cref="SequenceScoring"/>: problem_type, label count,
    /// CrossEncoder activation); Softmax when there is no classifier.</summary>
    public ScoreFunction ScoreFunction => HasClassifier ? SequenceScoring.Resolve(Config, NumLabels) : ScoreFunction.Softmax;

    /// <summary>Label, score (<see cref="ScoreFunction"/>) and logits per input. Throws when the checkpoint has no classification head.</summary>
    public Classification[] Classify(IReadOnlyList<TextInput> inputs)
    {
        if (!HasClassifier) throw new NativeTransformerException($"this {Config.Architecture} checkpoint has no sequence-classification head" +
            (HasTokenClassifier ? " (it is a token classifier: use TagEntities)" : ""));
        int classes = NumLabels;
        var function = ScoreFunction;
        var rows = Rows(inputs);
        var perRow = new float[rows.Rows.Length][];
        RunRows(rows, inputs, (batch, state, index) =>
        {
            var logits = ClassifierLogits(state, batch);
            for (int r = 0; r < batch.BatchSize; r++) perRow[index[r]] = logits.AsSpan(r * classes, classes).ToArray();
        });
        // Several windows: the token-weighted mean of their logits, then the usual scoring (docs/long-documents.md).
        var combined = CombineWindows(rows, perRow, classes);
        var result = new Classification[combined.Length];
        for (int i = 0; i < result.Length; i++)
        {
            var row = combined[i];
            int best = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);
            var scores = new float[classes];
            SequenceScoring.Apply(function, row, scores);
            result[i] = new Classification(LabelName(best), best, scores[best], row)
                { Scores = scores, Function = function, Truncated = rows.Truncated[i], Windows = rows.Windows(i) };
        }
        return result;
    }

    /// <summary>
    /// Scores each (<paramref name="query"/>, document) pair with the cross-encoder (a classifier with one logit) and
    /// returns the documents best first (ties: input order), the first <paramref name="topK"/> when given.
    /// </summary>
    public RerankResult[] Rerank(string query, IReadOnlyList<string> documents, int? topK = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        CheckReranker();
        if (string.IsNullOrEmpty(query)) throw new InputException("the query is empty");
        if (topK is < 1) throw new InputException($"top-k must be at least 1, got {topK}");
        var pairs = new TextInput[documents.Count];
        for (int i = 0; i < pairs.Length; i++)
            pairs[i] = new TextInput(query, documents[i] ?? throw new InputException($"document {i} is null"));
        var scored = Classify(pairs);
        var logits = new float[scored.Length];
        for (int i = 0; i < logits.Length; i++) logits[i] = scored[i].Logits[0];
        var order = RerankOrder(logits);
        int n = Math.Min(order.Length, topK ?? int.MaxValue);
        var result = new RerankResult[n];
        for (int k = 0; k < n; k++) result[k] = new RerankResult(order[k], documents[order[k]], scored[order[k]].Score, scored[order[k]].Logits[0]);
        return result;
    }

    /// <summary>Indices of <paramref name="logits"/> best first, ties in input order. By logit, not score: sigmoid
    /// saturates to 1 in float32 where the logits still differ.</summary>
    public static int[] RerankOrder(float[] logits)
    {
        var order = new int[logits.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => logits[a] != logits[b] ? logits[b].CompareTo(logits[a]) : a.CompareTo(b));
        return order;
    }

    /// <summary>Throws unless the model is a cross-encoder: a sequence classifier with exactly one logit.</summary>
    public void CheckReranker()
    {
        if (!HasClassifier) throw new NativeTransformerException($"this {Config.Architecture} checkpoint has no sequence-classification head; reranking needs a cross-encoder (one logit)");
        if (NumLabels != 1) throw new NativeTransformerException($"this {Config.Architecture} classifier has {NumLabels} labels; reranking needs a cross-encoder with exactly one logit");
    }

    public Classification[] Classify(IReadOnlyList<string> texts) => Classify(Inputs(texts));

    // A loop, not texts.Select(t => new TextInput(t)): every value type LINQ selects into multiplies its iterator
    // classes in the Native AOT binary (tens of KB each), so hot-path code here avoids Select into structs.
    private static TextInput[] Inputs(IReadOnlyList<string> texts)
    {
        var inputs = new TextInput[texts.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = new TextInput(texts[i]);
        return inputs;
    }

    /// <summary>All inputs as ONE padded batch (in the given order), every hidden state kept, plus every head the model has.</summary>
    public EncodeResult Encode(IReadOnlyList<TextInput> inputs)
    {
        var batch = PostProcessor.Pad(Tokenize(inputs), Tokenizer.PadId);
        return Encode(WithGlobalAttention(batch, inputs, null, always: true));
    }

    /// <summary>
    /// <see cref="Encode(IReadOnlyList{TextInput})"/> on an already tokenized, right-padded batch (ids from another tokenizer,
    /// or a reference's): every hidden state and every head. Row b's first Lengths[b] tokens are attended; pads should hold
    /// the tokenizer's pad id (RoBERTa counts positions over the ids that are not pad_token_id).
    /// </summary>
    public EncodeResult Encode(EncodedBatch batch)
    {
        CheckBatch(batch);
        int h = Config.HiddenSize, size = RunState.Length(batch.BatchSize, batch.SeqLen, h);
        var hidden = new float[Config.NumLayers + 1][];
        for (int i = 0; i < hidden.Length; i++) hidden[i] = new float[size];
        float[]? pooler = null, logits = null, embeddings = null, startLogits = null, endLogits = null, scores = null;
        if (batch.BatchSize > 0)
        {
            var state = Rent(batch.BatchSize, batch.SeqLen);
            try
            {
                _encoder.Forward(state, batch, hidden);
                if (HasPooler) { pooler = new float[batch.BatchSize * h]; PoolerOutput(state, batch, pooler); }
                if (HasClassifier) logits = ClassifierLogits(state, batch);
                if (_heads.TokenClassifier is { } tc) logits = Tasks.TokenClassification.Logits(state.Hidden, batch.BatchSize * batch.SeqLen, tc, _pool.Threads);
                if (HasClassifier && NumLabels == 1) { scores = new float[batch.BatchSize]; SequenceScoring.Apply(ScoreFunction, logits!, scores); }
                if (HasPoolingConfig) embeddings = Sentence.Embed(state.Hidden, batch, h);
                if (HasQuestionAnswering) (startLogits, endLogits) = QaLogits(state, batch);
            }
            finally { _states.Add(state); }
        }
        return new EncodeResult
        {
            Batch = batch, HiddenSize = h, HiddenStates = hidden, PoolerOutput = pooler, Logits = logits, NumLabels = NumLabels, Scores = scores, Embeddings = embeddings,
            LogitsPerToken = HasTokenClassifier,
            StartLogits = startLogits, EndLogits = endLogits,
        };
    }

    /// <summary>
    /// Runs the encoder alone on an already tokenized, right-padded batch (no heads, nothing returned):
    /// for benchmarks and callers that bring their own ids. Reuses preallocated buffers.
    /// </summary>
    public void Forward(EncodedBatch batch)
    {
        CheckBatch(batch);
        if (batch.BatchSize == 0) return;
        var state = Rent(batch.BatchSize, batch.SeqLen);
        try { _encoder.Forward(state, batch); }
        finally { _states.Add(state); }
    }

    /// <summary>A caller-built batch must be consistent before the encoder indexes it: a typed error, not an out-of-range crash.</summary>
    private static void CheckBatch(EncodedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.BatchSize < 0 || batch.SeqLen < 0) throw new InputException($"batch of {batch.BatchSize} × {batch.SeqLen} tokens: sizes must be non-negative");
        long tokens = (long)batch.BatchSize * batch.SeqLen;
        if (batch.InputIds is null || batch.TypeIds is null || batch.Lengths is null
            || batch.InputIds.Length != tokens || batch.TypeIds.Length != tokens || batch.Lengths.Length != batch.BatchSize)
            throw new InputException($"batch of {batch.BatchSize} × {batch.SeqLen} tokens needs {tokens} input ids and type ids and {batch.BatchSize} lengths, " +
                $"got {batch.InputIds?.Length} ids, {batch.TypeIds?.Length} type ids, {batch.Lengths?.Length} lengths");
        for (int b = 0; b < batch.BatchSize; b++)
            if (batch.Lengths[b] < 1 || batch.Lengths[b] > batch.SeqLen)
                throw new InputException($"batch row {b}: length {batch.Lengths[b]} is outside 1..{batch.SeqLen}");
        if (batch.GlobalAttention is { } global)
        {
            if (global.Length != tokens) throw new InputException($"batch of {batch.BatchSize} × {batch.SeqLen} tokens needs {tokens} global attention flags, got {global.Length}");
            foreach (int flag in global)
                if (flag is not (0 or 1)) throw new InputException($"global attention flags are 0 or 1, got {flag}");
        }
    }

    /// <summary>The kernels the encoder's Linear layers use, e.g. "int8 (avx512bw)" or "fp32-packed (avx512)".</summary>
    public string KernelDescription => string.Join(", ", _encoder.Layers.SelectMany(l => l.Operators())
        .Select(o => $"{o.Kind} ({o.Isa})").Distinct());

    /// <summary>Every distinct Linear operator the encoder runs (ALBERT's shared layers once), e.g. to check the memory estimate.</summary>
    internal IEnumerable<LinearOperator> LinearOperators =>
        _encoder.Layers.Distinct().SelectMany(l => l.Operators())
            .Concat(_encoder.Projection is { } p ? [p] : []);

    /// <summary>The model's worker pool (tests).</summary>
    internal WorkerPool Pool => _pool;

    /// <summary>Worker threads of the forward pass (the caller included).</summary>
    public int Threads => _pool.Threads;

    /// <summary>Top-k predictions (softmax probabilities) for each [MASK] token of <paramref name="text"/>.</summary>
    public MaskPrediction[] FillMask(string text, int topK = 5)
    {
        var mlm = _heads.MaskedLm ?? throw new NativeTransformerException($"this {Config.Architecture} checkpoint has no masked-LM head");
        if (topK < 1) throw new InputException("top-k must be at least 1");
        var encoding = Tokenize([new TextInput(text)])[0];
        if (Tokenizer.MaskId is not int maskId) throw new NativeTransformerException("this model's tokenizer has no mask token");
        var positions = Enumerable.Range(0, encoding.Length).Where(i => encoding.Ids[i] == maskId).ToArray();
        if (positions.Length == 0) throw new InputException($"the text has no {Tokenizer.MaskToken} token");
        var logits = MaskedLmLogits(encoding, positions);
        var result = new MaskPrediction[positions.Length];
        for (int p = 0; p < positions.Length; p++)
        {
            var probs = logits[p];
            Kernels.Softmax.MaskedRow(probs, probs.Length);
            var best = Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).ThenBy(i => i).Take(topK)
                .Select(i => new FillMaskCandidate(i, Tokenizer.IdToToken(i), probs[i])).ToArray();
            result[p] = new MaskPrediction(positions[p], best);
        }
        return result;
    }

    /// <summary>Raw masked-LM logits [V] at the given token positions of one encoded input (for tests and fill-mask).</summary>
    internal float[][] MaskedLmLogits(Encoding encoding, int[] positions)
    {
        var mlm = _heads.MaskedLm ?? throw new NativeTransformerException($"this {Config.Architecture} checkpoint has no masked-LM head");
        var batch = PostProcessor.Pad([encoding], Tokenizer.PadId);
        var state = Rent(1, batch.SeqLen);
        try
        {
            _encoder.Forward(state, batch);
            int h = Config.HiddenSize;
            return positions.Select(pos =>
            {
                var logits = new float[Config.VocabSize];
                Heads.MaskedLmLogits(state.Hidden.AsSpan(pos * h, h), mlm, Config, logits, _pool.Threads);
                return logits;
            }).ToArray();
        }
        finally { _states.Add(state); }
    }

    /// <summary>Tokenizes with the model's max length (truncating, never failing on long text).</summary>
    internal Encoding[] Tokenize(IReadOnlyList<TextInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rows = new Encoding[inputs.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            var input = inputs[i];
            if (input.Text is null) throw new InputException($"input {i}: text is null");
            rows[i] = Tokenizer.Encode(input.Text, input.TextPair, MaxLength);
        }
        return rows;
    }

    private float[] ClassifierLogits(RunState state, EncodedBatch batch)
    {
        int b = batch.BatchSize, h = Config.HiddenSize;
        var pooled = new float[b * h];
        if (_heads.MeanPooledClassifier) Heads.Pool(state.Hidden, batch, h, PoolingMode.Mean, normalize: false, pooled);
        else if (_heads.PreClassifier is null) PoolerOutput(state, batch, pooled);
        else Heads.FirstTokens(state.Hidden, b, batch.SeqLen, h, pooled);
        var logits = new float[b * NumLabels];
        Heads.Classify(pooled, b, _heads, logits, new float[b * h]);
        return logits;
    }

    private void PoolerOutput(RunState state, EncodedBatch batch, float[] output)
    {
        int h = Config.HiddenSize;
        if (_heads.FirstTokenPooler)
            Heads.FirstTokens(state.Hidden, batch.BatchSize, batch.SeqLen, h, output);
        else Heads.Pooler(state.Hidden, batch.BatchSize, batch.SeqLen, _heads.Pooler!, output, new float[batch.BatchSize * h]);
    }

    private string LabelName(int id) => Config.Id2Label.TryGetValue(id, out var name) ? name : $"LABEL_{id}";

    /// <summary>Sequence capacity grows in steps of this many tokens (up to <see cref="MaxLength"/>): length-sorted or
    /// mixed-length traffic would otherwise build a new state for nearly every new longest input, each old one left as
    /// pinned garbage until a full collection.</summary>
    private const int SeqCapacityStep = 16;
    private int _runStatesBuilt;

    /// <summary>How many run states this model has built (tests: capacity growth).</summary>
    internal int RunStatesBuilt => Volatile.Read(ref _runStatesBuilt);

    /// <summary>A RunState that fits (batch, seq): a pooled one, or a new one sized for this request and what the pooled one held.</summary>
    private RunState Rent(int batch, int seq)
    {
        if (_states.TryTake(out var state) && state.Fits(batch, seq)) return state;
        int b = Math.Max(batch, state?.MaxBatch ?? 0), s = Math.Max(seq, state?.MaxSeq ?? 0);
        s = Math.Max(s, Math.Min(MaxLength, (s + SeqCapacityStep - 1) / SeqCapacityStep * SeqCapacityStep));
        Interlocked.Increment(ref _runStatesBuilt);
        return new RunState(Config, b, s, _pool, _int8);
    }

    private static (ModelConfig, ITokenizer, SentenceTransformersConfig?) ReadFolder(string directory, LoadOptions? options = null, ITokenizer? tokenizerOverride = null)
    {
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory))
            throw new NativeTransformerException($"model folder '{directory}' does not exist");
        var config = ModelConfig.Load(Path.Combine(directory, "config.json"));
        var tokenizer = tokenizerOverride ?? TokenizerLoader.FromDirectory(directory, options?.PairTruncation);
        if (tokenizer.VocabSize > config.VocabSize)
            throw new ModelConfigException($"{directory}: the tokenizer has {tokenizer.VocabSize} tokens but config.json vocab_size is {config.VocabSize}");
        return (config, tokenizer, SentenceTransformersConfig.Load(directory));
    }

    private static int EffectiveMaxLength(ModelConfig config, ITokenizer tokenizer, SentenceTransformersConfig? st, LoadOptions options, string directory)
    {
        if (options.MaxLength is { } requested)
        {
            if (requested > config.MaxSequenceLength)
                throw new InputException($"max length {requested} exceeds this model's maximum of {config.MaxSequenceLength} tokens " +
                    $"(max_position_embeddings {config.MaxPositionEmbeddings}{(config.PositionsFromPadding ? $" less pad_token_id {config.PadTokenId} + 1" : "")})");
            return requested;
        }
        int max = Math.Min(config.MaxSequenceLength, tokenizer.ModelMaxLength ?? int.MaxValue);
        if (st?.MaxSeqLength is { } stMax) max = Math.Min(max, stMax);
        return max;
    }

    private static void ValidateOptions(LoadOptions o)
    {
        if (o.Threads < 0) throw new InputException($"threads must be 0 (all cores) or positive, got {o.Threads}");
        if (o.BatchSize < 1) throw new InputException($"batch size must be positive, got {o.BatchSize}");
        if (o.MaxLength is < 3) throw new InputException($"max length must be at least 3 (room for [CLS], [SEP] and a token), got {o.MaxLength}");
        if (o.OverflowStride is < 0) throw new InputException($"overflow stride must be non-negative, got {o.OverflowStride}");
        if (!Enum.IsDefined(o.Overflow)) throw new InputException($"unknown overflow mode {(int)o.Overflow}");
        if (o.MaxMemoryBytes is <= 0) throw new InputException($"max memory must be positive, got {o.MaxMemoryBytes}");
        if (o.KeepLayers is not null && o.DropTopLayers is not null) throw new InputException("choose one of keep-layers and drop-top, not both");
    }

    public void Dispose()
    {
        _pool.Dispose();
        _weights.Dispose();
        _packCache?.Dispose();
    }

    /// <summary>The packed-weights cache of this load, or null (tests).</summary>
    internal Weights.PackedCache.PackedWeightsCache? PackCache => _packCache;
}
