using Microsoft.Extensions.AI;

namespace NativeTransformer.Extensions;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over a loaded <see cref="TransformerModel"/>:
/// what Semantic Kernel, vector-store connectors and Microsoft.Extensions.AI middleware (caching, logging, telemetry) consume.
/// <list type="bullet">
/// <item><see cref="EmbeddingGenerationOptions.Dimensions"/>: Matryoshka truncation and L2 renormalisation
/// (<see cref="EmbeddingDimensions"/>); more than the model's size is an <see cref="InputException"/>.</item>
/// <item><see cref="GeneratedEmbeddings{TEmbedding}.Usage"/>: input tokens the model ran (special tokens and every window included).</item>
/// <item>AdditionalProperties "prompt_name" / "prompt": sentence-transformers prompts (<see cref="TransformerModel.Embed(IReadOnlyList{TextInput}, string?, string?)"/>).</item>
/// </list>
/// Thread-safe as the model is; cancellation stops between batches.
/// </summary>
public sealed class NativeTransformerEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name in <see cref="EmbeddingGeneratorMetadata.ProviderName"/>.</summary>
    public const string ProviderName = "NativeTransformer";

    private readonly bool _ownsModel;

    /// <param name="model">A loaded model (any family; embeddings pool as <see cref="TransformerModel.Embed(IReadOnlyList{TextInput})"/>).</param>
    /// <param name="modelId">The model id reported in metadata and on each embedding (e.g. the hub id or folder name).</param>
    /// <param name="ownsModel">Dispose <paramref name="model"/> with this generator.</param>
    public NativeTransformerEmbeddingGenerator(TransformerModel model, string modelId, bool ownsModel = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(modelId);
        Model = model;
        _ownsModel = ownsModel;
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, defaultModelId: modelId, defaultModelDimensions: model.EmbeddingSize);
    }

    /// <summary>The model this generator runs.</summary>
    public TransformerModel Model { get; }

    /// <summary>Provider "NativeTransformer", the model id, and the model's embedding size as default dimensions.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var inputs = new List<TextInput>();
        foreach (var value in values) inputs.Add(new TextInput(value ?? throw new InputException($"input {inputs.Count} is null")));
        string modelId = Metadata.DefaultModelId!;
        if (options?.ModelId is { } asked && asked != modelId)
            throw new InputException($"this generator serves model '{modelId}', not '{asked}'");
        int? dimensions = options?.Dimensions;
        if (dimensions is int d) EmbeddingDimensions.Check(d, Model.EmbeddingSize);
        string? promptName = Property(options, "prompt_name"), prompt = Property(options, "prompt");

        var results = await Model.EmbedResultsAsync(inputs, promptName, prompt, cancellationToken).ConfigureAwait(false);
        var created = DateTimeOffset.UtcNow;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(results.Length);
        long tokens = 0;
        foreach (var result in results)
        {
            var vector = dimensions is int dims ? EmbeddingDimensions.Truncate(result.Vector, dims) : result.Vector;
            embeddings.Add(new Embedding<float>(vector) { ModelId = modelId, CreatedAt = created });
            tokens += result.Tokens;
        }
        embeddings.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return embeddings;
    }

    private static string? Property(EmbeddingGenerationOptions? options, string key)
    {
        if (options?.AdditionalProperties is null || !options.AdditionalProperties.TryGetValue(key, out var value) || value is null) return null;
        return value as string ?? throw new InputException($"embedding option '{key}' must be a string, got {value.GetType().Name}");
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return Metadata;
        if (serviceType == typeof(TransformerModel)) return Model;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Disposes the model when this generator owns it.</summary>
    public void Dispose()
    {
        if (_ownsModel) Model.Dispose();
    }
}
