using System.Diagnostics;
using System.Threading.Channels;

namespace NativeTransformer.Serving;

/// <summary>One request's inputs (texts, or (query, document) pairs for rerank) waiting for a batch, and where its results
/// go. Either a batch takes it or its request gives up on it (client gone, timeout), whichever comes first.</summary>
internal sealed class WorkItem(TextInput[] texts, CancellationToken ct)
{
    private const int Queued = 0, Taken = 1, Abandoned = 2;
    private int _state;

    public TextInput[] Texts { get; private set; } = texts;
    public CancellationToken Token { get; } = ct;
    public long EnqueuedTicks { get; } = Stopwatch.GetTimestamp();
    public TaskCompletionSource<InferenceResult[]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public CancellationTokenRegistration Registration { get; set; }

    public bool IsAbandoned => Volatile.Read(ref _state) == Abandoned;

    /// <summary>A batch claims the item; false when its request gave up first.</summary>
    public bool TryTake()
    {
        if (Interlocked.CompareExchange(ref _state, Taken, Queued) != Queued) return false;
        Registration.Dispose();
        return true;
    }

    /// <summary>The request gave up while queued: the texts are dropped at once (the shell stays in the channel
    /// until the batch loop passes it); false when a batch already took it.</summary>
    public bool TryAbandon()
    {
        if (Interlocked.CompareExchange(ref _state, Abandoned, Queued) != Queued) return false;
        Texts = [];
        Result.TrySetCanceled(Token);
        return true;
    }
}

/// <summary>
/// Dynamic batching for one (model, task): requests queue here; a loop takes a concurrency slot, then gathers
/// requests until the batch holds <see cref="ServeOptions.MaxBatch"/> inputs or the first request has waited
/// <see cref="ServeOptions.MaxWaitMs"/>, and runs the batch in the background. Taking the slot first means that
/// while every slot is busy requests keep piling up and the next batch is fuller. Identical texts in a batch
/// are computed once.
/// </summary>
internal sealed class Batcher
{
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ModelEntry _entry;
    private readonly TaskKind _kind;
    private readonly ServeState _state;
    private readonly Task _loop;
    private int _waiting;

    /// <summary>Requests queued here and not yet taken into a batch (the per-model queue depth in /metrics).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public Batcher(ModelEntry entry, TaskKind kind, ServeState state)
    {
        _entry = entry; _kind = kind; _state = state;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Queues <paramref name="texts"/>; the task completes with one result per text. Throws 429 when the queue is full.</summary>
    public Task<InferenceResult[]> SubmitAsync(TextInput[] texts, CancellationToken ct)
    {
        if (!_state.Queue.TryEnter())
        {
            _state.Metrics.Rejected();
            throw new ApiException(429, "queue_full", $"the server is busy: {_state.Options.MaxQueue} requests are already waiting; retry shortly") { RetryAfterSeconds = 1 };
        }
        var item = new WorkItem(texts, ct);
        Interlocked.Increment(ref _waiting);
        // A request that gives up while queued (client gone, timeout) leaves the queue now: it no longer counts
        // against --max-queue or ntr_queue_depth, and it is never computed. Registered before the item is visible to
        // the batch loop, so TryTake always finds the registration it must dispose.
        item.Registration = ct.Register(static o =>
        {
            var (item, batcher) = ((WorkItem, Batcher))o!;
            if (item.TryAbandon()) batcher.Left();
        }, (item, this));
        if (!_queue.Writer.TryWrite(item))
        {
            if (item.TryTake()) Left();   // else it was abandoned, and left the queue then
            throw new ApiException(503, "shutting_down", "the server is shutting down") { RetryAfterSeconds = 1 };
        }
        return item.Result.Task;
    }

    /// <summary>Stops taking requests; those still queued are failed with 503.</summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        var stop = _state.Stopping;
        try
        {
            // No cancellation token on WaitToReadAsync, here or in GatherAsync: in .NET 9 a single-reader channel
            // whose pending wait is superseded by a new one (GatherAsync's delay won, the loop waits again) never
            // unregisters the old wait from the token, so every such wait left ~100 bytes on the long-lived stop token:
            // ntr serve's live heap grew with the request count (bench/load/RESULTS.md; fixed in .NET 10's channels).
            // Shutdown wakes the loop by completing the writer (StopAsync) and is seen through stop below.
            while (await reader.WaitToReadAsync().ConfigureAwait(false) && !stop.IsCancellationRequested)
            {
                await _state.Concurrency.WaitAsync(stop).ConfigureAwait(false);
                var batch = await GatherAsync(reader, stop).ConfigureAwait(false);
                if (batch.Count == 0) { _state.Concurrency.Release(); continue; }
                _ = RunAsync(batch);   // releases the slot when done
            }
        }
        catch (OperationCanceledException) { }
        // Whatever is still queued at shutdown gets an answer rather than hanging.
        while (reader.TryRead(out var left))
        {
            if (!left.TryTake()) continue;   // abandoned: already left the queue
            Left();
            left.Result.TrySetException(new ApiException(503, "shutting_down", "the server is shutting down") { RetryAfterSeconds = 1 });
        }
    }

    /// <summary>A request left the queue (taken into a batch, or refused): both the global and this model's count drop.</summary>
    private void Left()
    {
        _state.Queue.Leave();
        Interlocked.Decrement(ref _waiting);
    }

    private async Task<List<WorkItem>> GatherAsync(ChannelReader<WorkItem> reader, CancellationToken stop)
    {
        var batch = new List<WorkItem>();
        int inputs = 0, max = _state.Options.MaxBatch;
        long deadline = 0;
        while (inputs < max)
        {
            if (reader.TryPeek(out var next))
            {
                if (next.IsAbandoned) { reader.TryRead(out _); continue; }
                if (inputs > 0 && inputs + next.Texts.Length > max) break;   // a request is never split
                reader.TryRead(out _);
                if (!next.TryTake()) continue;   // abandoned just now: it left the queue itself
                Left();
                _state.Metrics.QueueTime.Observe(Stopwatch.GetElapsedTime(next.EnqueuedTicks).TotalSeconds);
                if (batch.Count == 0) deadline = next.EnqueuedTicks + _state.Options.MaxWaitMs * Stopwatch.Frequency / 1000;
                batch.Add(next);
                inputs += next.Texts.Length;
                continue;
            }
            if (batch.Count == 0) break;
            long remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0) break;
            var wait = reader.WaitToReadAsync().AsTask();   // no token: see LoopAsync
            var delay = Task.Delay(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency), stop);
            if (await Task.WhenAny(wait, delay).ConfigureAwait(false) != wait || !await wait.ConfigureAwait(false)) break;
        }
        return batch;
    }

    private async Task RunAsync(List<WorkItem> batch)
    {
        Interlocked.Increment(ref _state.InFlightBatches);
        try
        {
            int inputs = batch.Sum(i => i.Texts.Length);
            if (_state.Options.BeforeBatch is { } hook)
                await hook(new BatchInfo(_entry.Name, _kind, batch.Count, inputs)).ConfigureAwait(false);
            // Requests that gave up while the batch waited (client gone, timeout) are not computed.
            batch.RemoveAll(item => item.Token.IsCancellationRequested && item.Result.TrySetCanceled(item.Token));
            if (batch.Count == 0) return;
            inputs = batch.Sum(i => i.Texts.Length);
            using var lease = await _entry.AcquireAsync(CancellationToken.None).ConfigureAwait(false);

            // Identical inputs across the batch's requests are computed once (TextInput compares its strings ordinally).
            var slot = new Dictionary<TextInput, int>();
            var distinct = new List<TextInput>();
            foreach (var item in batch)
                foreach (var t in item.Texts)
                    if (slot.TryAdd(t, distinct.Count)) distinct.Add(t);
            _state.Metrics.Batch(inputs, distinct.Count);

            long started = Stopwatch.GetTimestamp();
            var results = await Task.Run(() => Compute(lease.Model, distinct)).ConfigureAwait(false);
            _state.Metrics.InferenceTime.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _state.Metrics.BatchTokens.Observe(results.Sum(r => r.Tokens));
            for (int i = 0; i < distinct.Count; i++) _state.Cache.Add(new CacheKey(_entry.Name, _kind, distinct[i].Text, distinct[i].TextPair), results[i]);
            foreach (var item in batch)
            {
                // Loops, not LINQ over TextInput: every value type LINQ runs over adds its own code to the Native AOT binary.
                var mine = new InferenceResult[item.Texts.Length];
                for (int i = 0; i < mine.Length; i++) mine[i] = results[slot[item.Texts[i]]];
                item.Result.TrySetResult(mine);
            }
        }
        catch (Exception e)
        {
            foreach (var item in batch) item.Result.TrySetException(e);
        }
        finally
        {
            Interlocked.Decrement(ref _state.InFlightBatches);
            _state.Concurrency.Release();
        }
    }

    private InferenceResult[] Compute(TransformerModel model, List<TextInput> texts)
    {
        var results = new InferenceResult[texts.Count];
        if (_kind == TaskKind.Embed)
        {
            // Prompt "": the endpoint has already prepended the request's (or the default) prompt.
            var embeddings = model.Embed(texts, null, "");
            for (int i = 0; i < results.Length; i++) results[i] = new InferenceResult(embeddings[i], null, Tokens(model, texts[i]));
            return results;
        }
        if (!model.HasClassifier)
            throw ApiException.BadRequest($"model '{_entry.Name}' has no classification head; use /v1/embeddings with it");
        if (_kind == TaskKind.Rerank && model.NumLabels != 1)
            throw ApiException.BadRequest($"model '{_entry.Name}' is a classifier with {model.NumLabels} labels; /v1/rerank needs a cross-encoder (one logit)");
        var classes = model.Classify(texts);
        for (int i = 0; i < results.Length; i++) results[i] = new InferenceResult(null, classes[i], Tokens(model, texts[i]));
        return results;
    }

    private static int Tokens(TransformerModel model, TextInput t) => model.Tokenizer.Encode(t.Text, t.TextPair, model.MaxLength).Length;
}
