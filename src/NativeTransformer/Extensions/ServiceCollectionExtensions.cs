using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace NativeTransformer.Extensions;

/// <summary>Dependency-injection registration of a model folder as an embedding generator.</summary>
public static class NativeTransformerServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons, the <see cref="TransformerModel"/> loaded from <paramref name="directory"/> (on first use,
    /// disposed with the container) and an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of string →
    /// <see cref="Embedding{T}"/> of float over it. Compose middleware by resolving the generator into Microsoft.Extensions.AI's
    /// EmbeddingGeneratorBuilder, or register your own pipeline instead with <c>AddEmbeddingGenerator</c>.
    /// </summary>
    /// <param name="services">The container to add to.</param>
    /// <param name="directory">The model folder (loaded when the model or generator is first resolved).</param>
    /// <param name="options">Load options (threads, batch size, max length, …).</param>
    /// <param name="modelId">Model id in the metadata; default: the folder's name.</param>
    public static IServiceCollection AddNativeTransformerEmbeddingGenerator(this IServiceCollection services, string directory,
        LoadOptions? options = null, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string id = modelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        services.AddSingleton(_ => TransformerModel.Load(directory, options));
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp =>
            new NativeTransformerEmbeddingGenerator(sp.GetRequiredService<TransformerModel>(), id));
        return services;
    }
}
