namespace NativeTransformer;

/// <summary>How sentence embeddings are pooled from the last hidden state.</summary>
public enum PoolingMode { Mean, Cls, Max }

/// <summary>What <see cref="TransformerModel.Embed(IReadOnlyList{TextInput})"/>, <see cref="TransformerModel.Classify(IReadOnlyList{TextInput})"/>
/// and <see cref="TransformerModel.TagEntities"/> do with an input longer than <see cref="TransformerModel.MaxLength"/> tokens
/// (docs/long-documents.md): <see cref="Truncate"/> cuts it and the result says so (Truncated); <see cref="Error"/> refuses it
/// with an <see cref="InputException"/>; <see cref="Window"/> runs overlapping windows and combines them.</summary>
public enum OverflowMode { Truncate, Error, Window }
/// <summary>Longformer: which tokens get global attention when an input names none (see <see cref="LoadOptions.GlobalAttention"/>).</summary>
public enum GlobalAttentionDefault { FirstToken, None }

/// <summary>Options for <see cref="TransformerModel.Load(string, LoadOptions?)"/>.</summary>
public sealed record LoadOptions
{
    /// <summary>Worker threads for the forward pass, the caller included; 0 = one per physical core.</summary>
    public int Threads { get; init; }
    /// <summary>Token limit per input including special tokens; longer inputs follow <see cref="Overflow"/>. null = the
    /// smaller of the tokenizer's model_max_length and the model's max_position_embeddings.</summary>
    public int? MaxLength { get; init; }
    /// <summary>Inputs longer than <see cref="MaxLength"/> tokens: cut and flagged (default), refused, or run in overlapping
    /// windows whose results are combined (see <see cref="OverflowMode"/> and docs/long-documents.md).</summary>
    public OverflowMode Overflow { get; init; } = OverflowMode.Truncate;
    /// <summary>Tokens shared by consecutive windows with <see cref="OverflowMode.Window"/>; null = min(128, half the tokens a
    /// window has for the text). Must be smaller than that room.</summary>
    public int? OverflowStride { get; init; }
    /// <summary>Inputs per forward pass when a call gets more texts than this.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Override the pooling read from a sentence-transformers folder (default there: its config; elsewhere Mean).</summary>
    public PoolingMode? Pooling { get; init; }
    /// <summary>Dynamic int8: encoder Linear weights quantized per channel at load, activations per token at run time.
    /// Embeddings, LayerNorm, pooler and classifier stay fp32.</summary>
    public bool Int8 { get; init; }
    /// <summary>Which encoder Linear layers run in int8 when <see cref="Int8"/> is on (default: all).</summary>
    public Models.Int8Linears Int8Layers { get; init; } = Models.Int8Linears.All;
    /// <summary>Override L2 normalisation of embeddings (default: true when the folder has a Normalize module, else false).</summary>
    public bool? Normalize { get; init; }
    /// <summary>Name of a prompt in the folder's config_sentence_transformers.json, prepended to every input <see cref="TransformerModel.Embed(IReadOnlyList{TextInput})"/>
    /// gets (replaces default_prompt_name). An unknown name fails the load with <see cref="InputException"/> listing the names.
    /// Excludes <see cref="Prompt"/>; a call to <see cref="TransformerModel.Embed(IReadOnlyList{TextInput}, string?, string?)"/> can still choose another.</summary>
    public string? PromptName { get; init; }
    /// <summary>Literal prompt text prepended to every input Embed gets (replaces default_prompt_name; "" = no prompt).
    /// Excludes <see cref="PromptName"/>.</summary>
    public string? Prompt { get; init; }
    /// <summary>Run only these encoder layers (ascending, distinct, 0-based), in order; the others' weights are never
    /// read. Equal bit for bit to a checkpoint reduced with <c>weights-tools drop-layers --keep</c>. Excludes <see cref="DropTopLayers"/>.</summary>
    public IReadOnlyList<int>? KeepLayers { get; init; }
    /// <summary>Drop the top K encoder layers at load (keep 0..L-K-1). Excludes <see cref="KeepLayers"/>.</summary>
    public int? DropTopLayers { get; init; }
    /// <summary>Sparse fp32 kernels for pruned (mostly zero) weights: Auto picks one per Linear only where the measured
    /// policy (<see cref="Kernels.Sparse.SparsePolicy"/>) says it beats dense; Never / Always force the choice. int8 layers are unaffected.</summary>
    public Kernels.SparseKernels SparseKernels { get; init; } = Kernels.SparseKernels.Auto;
    /// <summary>Load a checkpoint whose weights hold NaN or ±Inf. By default such a tensor is refused with a
    /// <see cref="WeightException"/> naming it, because it turns every output it reaches into NaN; set this only to
    /// study a broken checkpoint (<c>ntr inspect</c> reports the counts without loading).</summary>
    public bool AllowNonFiniteWeights { get; init; }
    /// <summary>Memory budget in bytes: <see cref="TransformerModel.Load(string, LoadOptions?)"/> first estimates the process's peak RSS for these
    /// options (<see cref="TransformerModel.EstimateMemory"/>: config, tokenizer and safetensors headers only) and throws
    /// <see cref="MemoryBudgetException"/> before reading any weight when the estimate exceeds it. null = no budget.</summary>
    public long? MaxMemoryBytes { get; init; }
    /// <summary>How text pairs longer than the max length are cut. null (default) = the Rust tokenizers' rule, what
    /// transformers' fast tokenizers (its default) apply; <see cref="Tokenization.PairTruncationStrategy.LongestFirst"/>
    /// reproduces the slow Python tokenizers (they differ only when both texts are cut and the budget is odd).</summary>
    public Tokenization.PairTruncationStrategy? PairTruncation { get; init; }
    /// <summary>Folder of the packed-weights cache, or null (default) for none. With a folder, the first load of a model
    /// writes its fp32 Linear weights in the GEMM's panel layout there and later loads memory-map them instead of
    /// repacking (faster cold start, identical results); a missing, damaged or stale cache file is rebuilt, and a folder
    /// that cannot be written only costs the speed-up. <see cref="DefaultPackedWeightsCache"/> is the one the CLI uses.</summary>
    public string? PackedWeightsCache { get; init; }

    /// <summary>Longformer: the global attention of inputs that name no global tokens. null (default) = as Hugging Face: the
    /// first token ([CLS] / &lt;s&gt;) for a sequence classifier, none otherwise. Other families ignore it.</summary>
    public GlobalAttentionDefault? GlobalAttention { get; init; }

    /// <summary>The per-user packed-weights cache folder: $XDG_CACHE_HOME/ntr/packed, else ~/.cache/ntr/packed.</summary>
    public static string DefaultPackedWeightsCache() => Weights.PackedCache.PackedWeightsCache.DefaultDirectory();
}
