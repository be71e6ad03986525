using System.Numerics.Tensors;
using NativeTransformer.Tokenization;

namespace NativeTransformer.Models;

/// <summary>
/// What turns the last hidden state into a sentence embedding, in sentence-transformers' order: Pooling → Dense
/// modules → Normalize, plus the prompt prepended to each input. Built once per load from the folder and
/// <see cref="LoadOptions"/> (which may override pooling, normalisation and the default prompt).
/// </summary>
internal sealed class SentenceHead
{
    private readonly PoolingMode _pooling;
    private readonly bool _normalize;
    private readonly DenseLayer[] _dense;
    private readonly bool _includePrompt;
    private readonly string _defaultPrefix;

    public SentencePrompts Prompts { get; }
    /// <summary>Floats per embedding: the last Dense module's out_features, else the hidden size.</summary>
    public int Size { get; }

    private SentenceHead(PoolingMode pooling, bool normalize, DenseLayer[] dense, bool includePrompt, SentencePrompts prompts, string defaultPrefix, int size)
    {
        (_pooling, _normalize, _dense, _includePrompt, Prompts, _defaultPrefix, Size) = (pooling, normalize, dense, includePrompt, prompts, defaultPrefix, size);
        CheckIncludePrompt(defaultPrefix);
    }

    public static SentenceHead Load(string directory, SentenceTransformersConfig? st, LoadOptions options, int hiddenSize)
    {
        var prompts = SentencePrompts.Load(directory);
        // The load-level prompt (LoadOptions) replaces the folder's default_prompt_name; validated now, not at the first Embed.
        string defaultPrefix = options.PromptName is null && options.Prompt is null ? prompts.Default : prompts.Resolve(options.PromptName, options.Prompt, "");
        var dense = new DenseLayer[st?.Dense.Count ?? 0];
        int size = hiddenSize;
        for (int i = 0; i < dense.Length; i++)
        {
            var c = st!.Dense[i];
            if (c.InFeatures != size)
                throw new ModelConfigException($"{Path.Combine(c.Directory, "config.json")}: in_features is {c.InFeatures} but its input has {size} values ({(i == 0 ? "the hidden size" : "the previous Dense module's out_features")})");
            dense[i] = DenseLayer.Load(c);
            size = c.OutFeatures;
        }
        return new SentenceHead(options.Pooling ?? st?.Pooling ?? PoolingMode.Mean, options.Normalize ?? st?.Normalize ?? false, dense,
            st?.IncludePrompt ?? true, prompts, defaultPrefix, size);
    }

    /// <summary>The text prepended to each input for a call (see <see cref="SentencePrompts.Resolve"/>; no name and no text
    /// = the load's default).</summary>
    public string Prefix(string? promptName, string? prompt)
    {
        string prefix = Prompts.Resolve(promptName, prompt, _defaultPrefix);
        CheckIncludePrompt(prefix);
        return prefix;
    }

    /// <summary>[B, <see cref="Size"/>] embeddings of a batch from its last hidden state [B, S, H].</summary>
    public float[] Embed(ReadOnlySpan<float> hidden, EncodedBatch batch, int h) => Finish(Pool(hidden, batch, h), batch.BatchSize);

    /// <summary>The Pooling module alone: [B, H] pooled vectors, before Dense and Normalize (what long inputs average over windows).</summary>
    public float[] Pool(ReadOnlySpan<float> hidden, EncodedBatch batch, int h)
    {
        var pooled = new float[batch.BatchSize * h];
        Heads.Pool(hidden, batch, h, _pooling, normalize: false, pooled);
        return pooled;
    }

    /// <summary>Dense modules then Normalize on <paramref name="rows"/> pooled vectors [rows, H] → [rows, <see cref="Size"/>].</summary>
    public float[] Finish(float[] pooled, int rows)
    {
        foreach (var d in _dense) pooled = d.Apply(pooled, rows);
        if (_normalize)
            for (int r = 0; r < rows; r++)
            {
                var row = pooled.AsSpan(r * Size, Size);
                // The same expression as Heads.Pool's normalisation, so a pooled-then-normalised row is bit for bit the same.
                TensorPrimitives.Multiply(row, 1f / MathF.Max(TensorPrimitives.Norm(row), 1e-12f), row);
            }
        return pooled;
    }

    // include_prompt false: sentence-transformers drops the prompt's tokens from mean/max pooling. Not implemented, so
    // refused rather than silently pooled differently (CLS pooling never sees them, so it is fine).
    private void CheckIncludePrompt(string prefix)
    {
        if (prefix.Length > 0 && !_includePrompt && _pooling != PoolingMode.Cls)
            throw new InputException("this model's pooling config sets include_prompt false (prompt tokens left out of the pooling), which is not supported; use no prompt");
    }
}
