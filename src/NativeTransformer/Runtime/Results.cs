using NativeTransformer.Tokenization;

namespace NativeTransformer;

/// <summary>One input: a text, or a text pair (<see cref="TextPair"/> = second segment, token type 1).</summary>
public readonly record struct TextInput(string Text, string? TextPair = null)
{
    /// <summary>Longformer: token positions (special tokens included, 0 = [CLS] / &lt;s&gt;) that get global attention; null = the
    /// model's default (<see cref="LoadOptions.GlobalAttention"/>). A position past the tokenized input is an <see cref="InputException"/>;
    /// other families refuse it.</summary>
    public IReadOnlyList<int>? GlobalAttention { get; init; }

    public static implicit operator TextInput(string text) => new(text);
}

/// <summary>Result of a sequence classifier for one input.</summary>
/// <param name="Label">id2label name of the best class (or "LABEL_i").</param>
/// <param name="LabelId">Index of the best class.</param>
/// <param name="Score">The best class's score under <see cref="Function"/>: its softmax probability; with one logit (a
/// cross-encoder) sigmoid(logit); for multi-label its sigmoid; for regression the raw value.</param>
/// <param name="Logits">Raw classifier outputs.</param>
public sealed record Classification(string Label, int LabelId, float Score, float[] Logits)
{
    /// <summary>Every label's score under <see cref="Function"/>, by label id (empty when built without them).</summary>
    public float[] Scores { get; init; } = [];
    /// <summary>How <see cref="Logits"/> became <see cref="Scores"/> (config.json problem_type and label count).</summary>
    public ScoreFunction Function { get; init; } = ScoreFunction.Softmax;
    /// <summary>True when the input had more tokens than the model's max length and the rest was cut
    /// (<see cref="OverflowMode.Truncate"/>).</summary>
    public bool Truncated { get; init; }
    /// <summary>Windows the input was run in (<see cref="OverflowMode.Window"/>; 1 when it fits): <see cref="Logits"/> is
    /// then the token-weighted mean of the windows' logits.</summary>
    public int Windows { get; init; } = 1;
}

/// <summary>One sentence embedding with how its input was fitted to the model (see docs/long-documents.md).</summary>
/// <param name="Vector">The embedding [<see cref="TransformerModel.EmbeddingSize"/>].</param>
/// <param name="Truncated">The input had more tokens than the model's max length and the rest was cut.</param>
/// <param name="Windows">Windows the input was run in (1 when it fits); the pooled vectors of several are averaged,
/// weighted by the tokens each window owns, before the Dense modules and normalisation.</param>
public sealed record EmbeddingResult(float[] Vector, bool Truncated, int Windows)
{
    /// <summary>Tokens the input ran as (special tokens included; every window's when it ran in several).</summary>
    public int Tokens { get; init; }
}

/// <summary>One document of <see cref="TransformerModel.Rerank"/>: its position in the input, its text and the
/// cross-encoder's score of (query, document) — sigmoid(logit) unless the config says otherwise.</summary>
public sealed record RerankResult(int Index, string Document, float Score, float Logit);

/// <summary>One candidate for a [MASK] position: token, id and softmax probability.</summary>
public sealed record FillMaskCandidate(int TokenId, string Token, float Score);

/// <summary>Top-k candidates for the [MASK] at token position <see cref="Position"/>.</summary>
public sealed record MaskPrediction(int Position, FillMaskCandidate[] Candidates);

/// <summary>
/// Everything one padded batch produced. All arrays are row-major; B = batch, S = padded sequence
/// length, H = hidden size. Values at padded positions (mask 0) are computed but implementation-defined.
/// </summary>
public sealed class EncodeResult
{
    public required EncodedBatch Batch { get; init; }
    public required int HiddenSize { get; init; }
    /// <summary>hidden_states.0 (embedding output) … hidden_states.L, each [B, S, H].</summary>
    public required float[][] HiddenStates { get; init; }
    /// <summary>[B, H] when the model has a pooler.</summary>
    public float[]? PoolerOutput { get; init; }
    /// <summary>[B, labels] when the model has a sequence-classification head; [B, S, labels] for a token classifier
    /// (<see cref="LogitsPerToken"/>).</summary>
    public float[]? Logits { get; init; }
    /// <summary>True when <see cref="Logits"/> holds one row per token ([B, S, labels]), from a …ForTokenClassification head.</summary>
    public bool LogitsPerToken { get; init; }
    public int NumLabels { get; init; }
    /// <summary>[B] per-input scores of a single-logit head (a cross-encoder): sigmoid(logit), or the logit itself for
    /// regression / an Identity activation. Null for other models.</summary>
    public float[]? Scores { get; init; }
    /// <summary>[B, E] sentence embeddings when the folder has a pooling config (sentence-transformers); E is the hidden
    /// size, or the out_features of the folder's last Dense module. No prompt is applied here.</summary>
    public float[]? Embeddings { get; init; }
    /// <summary>[B, S] answer-start and answer-end logits of every token when the model has a question-answering head.</summary>
    public float[]? StartLogits { get; init; }
    public float[]? EndLogits { get; init; }
}

/// <summary>What <see cref="TransformerModel.Inspect"/> reports about a model folder.</summary>
public sealed record ModelSummary(
    string Directory,
    string ModelType,
    string Architecture,
    int Layers,
    int HiddenSize,
    int AttentionHeads,
    int IntermediateSize,
    int VocabSize,
    long ParameterCount,
    long WeightBytes,
    IReadOnlyDictionary<string, int> TensorsByDType,
    /* e.g. pooler, classifier (labels), masked-lm, sentence-pooling (mean, normalize) */
    IReadOnlyList<string> OutputHeads,
    bool HasWeights,
    /* heads left in each layer; null unless config.json prunes heads (pruned_heads) */
    IReadOnlyList<int>? HeadsPerLayer = null,
    /* weights-tools quantize marker, e.g. "int8-symmetric-per-channel/v1 (embeddings int8)"; null for a plain checkpoint */
    string? Quantization = null)
{
    /// <summary>NaN/±Inf values in the float weights the model reads (loading refuses them unless
    /// <see cref="LoadOptions.AllowNonFiniteWeights"/>).</summary>
    public long NonFiniteWeights { get; init; }
    /// <summary>Keys of the tensors holding them, sorted.</summary>
    public IReadOnlyList<string> NonFiniteTensors { get; init; } = [];
}
