using NativeTransformer.Tokenization;

namespace NativeTransformer;

/// <summary>
/// The library's entry point: a loaded Hugging Face BERT-family folder (weights memory-mapped,
/// tokenizer, heads). Thread-safe for concurrent calls. (Contract stub.)
/// </summary>
public sealed class TransformerModel : IDisposable
{
    /// <summary>Loads a model folder (config.json, vocab.txt, model.safetensors...). Throws a
    /// <see cref="NativeTransformerException"/> subtype for anything wrong with the folder.</summary>
    public static TransformerModel Load(string directory, LoadOptions? options = null) => throw new NotImplementedException();

    /// <summary>Validates a folder exactly as <see cref="Load"/> would (config, tokenizer, every tensor's presence,
    /// dtype and shape) without building the runtime; a folder without weights is reported with HasWeights = false.</summary>
    public static ModelSummary Inspect(string directory) => throw new NotImplementedException();

    public Models.ModelConfig Config => throw new NotImplementedException();
    public WordPieceTokenizer Tokenizer => throw new NotImplementedException();
    /// <summary>Effective max tokens per input.</summary>
    public int MaxLength => throw new NotImplementedException();
    public bool HasClassifier => throw new NotImplementedException();
    public bool HasMaskedLm => throw new NotImplementedException();
    public bool HasPooler => throw new NotImplementedException();
    /// <summary>True when the folder carries a sentence-transformers pooling config.</summary>
    public bool HasPoolingConfig => throw new NotImplementedException();

    /// <summary>Sentence embeddings [n][H].</summary>
    public float[][] Embed(IReadOnlyList<TextInput> inputs) => throw new NotImplementedException();
    public Classification[] Classify(IReadOnlyList<TextInput> inputs) => throw new NotImplementedException();
    /// <summary>All inputs as ONE padded batch, every hidden state kept.</summary>
    public EncodeResult Encode(IReadOnlyList<TextInput> inputs) => throw new NotImplementedException();
    /// <summary>Top-k predictions for each [MASK] token of <paramref name="text"/>.</summary>
    public MaskPrediction[] FillMask(string text, int topK = 5) => throw new NotImplementedException();

    public void Dispose() { }
}
