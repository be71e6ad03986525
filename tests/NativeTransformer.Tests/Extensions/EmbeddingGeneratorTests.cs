using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NativeTransformer.Extensions;

namespace NativeTransformer.Tests.Extensions;

/// <summary>The Microsoft.Extensions.AI embedding generator: the model's vectors, Matryoshka dimensions, usage, metadata,
/// DI registration, and composition with Microsoft.Extensions.AI's own caching and logging middleware.</summary>
public class EmbeddingGeneratorTests
{
    private static readonly string Dir = TestPaths.Model("bert-mini-sst2");
    private static readonly string[] Texts = ["a gorgeous , witty movie .", "dull", "naïve café résumé"];

    private static TransformerModel Load() => TransformerModel.Load(Dir, new LoadOptions { Threads = 1 });

    [Fact]
    public async Task GeneratesTheModelsVectorsWithUsageAndMetadata()
    {
        using var model = Load();
        using var generator = new NativeTransformerEmbeddingGenerator(model, "bert-mini-sst2");
        var embeddings = await generator.GenerateAsync(Texts);
        var expected = model.Embed(Texts);
        Assert.Equal(Texts.Length, embeddings.Count);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(expected[i], embeddings[i].Vector.ToArray());
            Assert.Equal("bert-mini-sst2", embeddings[i].ModelId);
        }
        long tokens = Texts.Sum(t => model.Tokenizer.Encode(t, null, model.MaxLength).Length);
        Assert.Equal(tokens, embeddings.Usage!.InputTokenCount);
        Assert.Equal(tokens, embeddings.Usage.TotalTokenCount);

        var metadata = generator.GetService<EmbeddingGeneratorMetadata>()!;
        Assert.Equal("NativeTransformer", metadata.ProviderName);
        Assert.Equal("bert-mini-sst2", metadata.DefaultModelId);
        Assert.Equal(model.EmbeddingSize, metadata.DefaultModelDimensions);
        Assert.Same(model, generator.GetService<TransformerModel>());
        Assert.Null(generator.GetService<TransformerModel>("some key"));
    }

    [Fact]
    public async Task DimensionsTruncateAndRenormaliseAndRefuseMoreThanTheModelHas()
    {
        using var model = Load();
        using var generator = new NativeTransformerEmbeddingGenerator(model, "m");
        var full = model.Embed(Texts);
        var cut = await generator.GenerateAsync(Texts, new EmbeddingGenerationOptions { Dimensions = 64 });
        for (int i = 0; i < Texts.Length; i++)
        {
            var v = cut[i].Vector.ToArray();
            Assert.Equal(64, v.Length);
            Assert.InRange(Math.Sqrt(v.Sum(x => (double)x * x)), 0.99999, 1.00001);
            double norm = Math.Sqrt(full[i].Take(64).Sum(x => (double)x * x));
            for (int j = 0; j < 64; j++) Assert.Equal(full[i][j] / norm, v[j], 1e-6);   // the prefix, scaled
        }
        var error = await Assert.ThrowsAsync<InputException>(() => generator.GenerateAsync(Texts, new EmbeddingGenerationOptions { Dimensions = model.EmbeddingSize + 1 }));
        Assert.Contains($"embedding size of {model.EmbeddingSize}", error.Message);
        await Assert.ThrowsAsync<InputException>(() => generator.GenerateAsync(Texts, new EmbeddingGenerationOptions { ModelId = "other" }));
    }

    [Fact]
    public async Task ComposesWithMicrosoftExtensionsAiCachingAndLogging()
    {
        using var model = Load();
        var counting = new CountingGenerator(new NativeTransformerEmbeddingGenerator(model, "bert-mini-sst2"));
        var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        using var pipeline = counting.AsBuilder()
            .UseDistributedCache(cache)
            .UseLogging(loggerFactory)
            .Build();

        var first = await pipeline.GenerateAsync(Texts);
        var second = await pipeline.GenerateAsync(Texts);
        Assert.Equal(1, counting.Calls);   // the second call came from the cache
        var expected = model.Embed(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(expected[i], first[i].Vector.ToArray());
            Assert.Equal(expected[i], second[i].Vector.ToArray());
        }
        Assert.Contains(logs.Messages, m => m.Contains("GenerateAsync"));
        // Metadata passes through the middleware.
        Assert.Equal("NativeTransformer", pipeline.GetService<EmbeddingGeneratorMetadata>()!.ProviderName);
    }

    [Fact]
    public async Task TheDiHelperRegistersTheModelAndTheGenerator()
    {
        var services = new ServiceCollection();
        services.AddNativeTransformerEmbeddingGenerator(Dir, new LoadOptions { Threads = 1 });
        await using (var provider = services.BuildServiceProvider())
        {
            var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
            var model = provider.GetRequiredService<TransformerModel>();
            Assert.Same(model, generator.GetService<TransformerModel>());
            Assert.Equal("bert-mini-sst2", generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId);
            var vector = await generator.GenerateVectorAsync("a gorgeous , witty movie .");
            Assert.Equal(model.Embed(["a gorgeous , witty movie ."])[0], vector.ToArray());
        }
    }

    private sealed class CountingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner) : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
    {
        public int Calls;
        public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            return base.GenerateAsync(values, options, cancellationToken);
        }
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        public List<string> Messages { get; } = [];
        public ILogger CreateLogger(string categoryName) => new ListLogger(this);
        public void Dispose() { }

        private sealed class ListLogger(ListLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Messages) owner.Messages.Add(formatter(state, exception));
            }
        }
    }
}
