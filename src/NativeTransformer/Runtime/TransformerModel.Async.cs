using System.Runtime.CompilerServices;

namespace NativeTransformer;

/// <summary>
/// The async API: each call runs the synchronous one on the thread pool with its <see cref="CancellationToken"/>, checked
/// before every batch (a cancelled call throws <see cref="OperationCanceledException"/> between batches; a batch that has
/// started finishes first, and the model stays usable). The work is CPU-bound: async frees the caller's thread (a UI or a
/// request handler), it does not make one call faster.
/// <para>Thread safety: one <see cref="TransformerModel"/> serves any number of concurrent calls, sync or async. Each call
/// rents its own RunState (scratch buffers) from a concurrent pool and returns it when done, and the tokenizer and weights
/// are read-only. The kernels' worker pool runs one parallel region at a time, so concurrent calls interleave region by
/// region rather than adding cores: for throughput, batch texts into one call. <see cref="IDisposable.Dispose"/> must not
/// race a running call.</para>
/// </summary>
public sealed partial class TransformerModel
{
    /// <summary><see cref="Embed(IReadOnlyList{TextInput}, string?, string?)"/> on the thread pool, cancellable between batches.</summary>
    public Task<float[][]> EmbedAsync(IReadOnlyList<TextInput> inputs, string? promptName = null, string? prompt = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(() => Embed(inputs, promptName, prompt), cancellationToken);

    /// <summary><see cref="Embed(IReadOnlyList{string})"/> on the thread pool, cancellable between batches.</summary>
    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        RunAsync(() => Embed(texts), cancellationToken);

    /// <summary><see cref="EmbedResults"/> (vectors with truncation, windows and token counts) on the thread pool.</summary>
    public Task<EmbeddingResult[]> EmbedResultsAsync(IReadOnlyList<TextInput> inputs, string? promptName = null, string? prompt = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(() => EmbedResults(inputs, promptName, prompt), cancellationToken);

    /// <summary><see cref="Classify(IReadOnlyList{TextInput})"/> on the thread pool, cancellable between batches.</summary>
    public Task<Classification[]> ClassifyAsync(IReadOnlyList<TextInput> inputs, CancellationToken cancellationToken = default) =>
        RunAsync(() => Classify(inputs), cancellationToken);

    /// <summary><see cref="Classify(IReadOnlyList{string})"/> on the thread pool, cancellable between batches.</summary>
    public Task<Classification[]> ClassifyAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
        RunAsync(() => Classify(texts), cancellationToken);

    /// <summary><see cref="Rerank"/> on the thread pool, cancellable between batches.</summary>
    public Task<RerankResult[]> RerankAsync(string query, IReadOnlyList<string> documents, int? topK = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(() => Rerank(query, documents, topK), cancellationToken);

    /// <summary><see cref="TagEntities"/> on the thread pool, cancellable between batches.</summary>
    public Task<EntityTagging[]> TagEntitiesAsync(IReadOnlyList<string> texts, EntityAggregation aggregation = EntityAggregation.Simple,
        CancellationToken cancellationToken = default) =>
        RunAsync(() => TagEntities(texts, aggregation), cancellationToken);

    /// <summary><see cref="AnswerQuestion"/> on the thread pool, cancellable between windows.</summary>
    public Task<QuestionAnswer[]> AnswerQuestionAsync(string question, string context, QuestionAnsweringOptions? options = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(() => AnswerQuestion(question, context, options), cancellationToken);

    /// <summary>
    /// Embeds a stream of any length chunk by chunk (<paramref name="chunkSize"/> inputs per call, default 4 batches), yielding
    /// each input's vector in input order as soon as its chunk is done: memory stays bounded by one chunk, and a consumer can
    /// write results while the next chunk runs. Vectors equal <see cref="Embed(IReadOnlyList{TextInput})"/>'s bit for bit
    /// (each row's result does not depend on its batch). Cancellation stops between batches.
    /// </summary>
    public async IAsyncEnumerable<float[]> EmbedStreamAsync(IAsyncEnumerable<TextInput> inputs, int? chunkSize = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int size = chunkSize ?? 4 * _options.BatchSize;
        if (size < 1) throw new InputException($"chunk size must be positive, got {size}");
        var chunk = new List<TextInput>(size);
        await foreach (var input in inputs.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            chunk.Add(input);
            if (chunk.Count < size) continue;
            foreach (var vector in await EmbedAsync(chunk.ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false)) yield return vector;
            chunk.Clear();
        }
        if (chunk.Count > 0)
            foreach (var vector in await EmbedAsync(chunk.ToArray(), cancellationToken: cancellationToken).ConfigureAwait(false)) yield return vector;
    }

    /// <summary><see cref="EmbedStreamAsync(IAsyncEnumerable{TextInput}, int?, CancellationToken)"/> over a synchronous sequence
    /// (e.g. File.ReadLines), read lazily.</summary>
    public IAsyncEnumerable<float[]> EmbedStreamAsync(IEnumerable<string> texts, int? chunkSize = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return EmbedStreamAsync(AsAsync(texts), chunkSize, cancellationToken);
    }

    private static async IAsyncEnumerable<TextInput> AsAsync(IEnumerable<string> texts)
    {
        foreach (var text in texts) yield return new TextInput(text);
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private static Task<T> RunAsync<T>(Func<T> call, CancellationToken token)
    {
        if (token.IsCancellationRequested) return Task.FromCanceled<T>(token);
        return Task.Run(() =>
        {
            using var scope = CallCancellation.Enter(token);
            return call();
        }, token);
    }
}
