namespace NativeTransformer.Serving;

/// <summary>A counter of requests waiting for a batch, bounded by <see cref="ServeOptions.MaxQueue"/>.</summary>
internal sealed class QueueGate(int capacity)
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public bool TryEnter()
    {
        while (true)
        {
            int c = Volatile.Read(ref _count);
            if (c >= capacity) return false;
            if (Interlocked.CompareExchange(ref _count, c + 1, c) == c) return true;
        }
    }

    public void Leave() => Interlocked.Decrement(ref _count);
}

/// <summary>What the endpoints share: models, batchers, cache, metrics and the limits.</summary>
internal sealed class ServeState : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<(string, TaskKind), Batcher> _batchers = [];
    private readonly Task? _idleLoop;

    public ServeOptions Options { get; }
    public IReadOnlyDictionary<string, ModelEntry> Models { get; }
    public ServeMetrics Metrics { get; }
    public ResultCache Cache { get; }
    public QueueGate Queue { get; }
    /// <summary>Slots for batches running at once (all models).</summary>
    public SemaphoreSlim Concurrency { get; }
    public int InFlightBatches;
    /// <summary>Cancelled once the HTTP server has drained: the batch loops stop.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public ServeState(ServeOptions options, ServeMetrics? metrics = null)
    {
        Options = options;
        Metrics = metrics ?? new ServeMetrics();
        // One forward pass per batch: the library's own split size follows --max-batch.
        var load = options.LoadOptions with { BatchSize = Math.Max(options.LoadOptions.BatchSize, options.MaxBatch) };
        Models = options.Models.ToDictionary(p => p.Key, p => new ModelEntry(p.Key, p.Value, load, Metrics), StringComparer.Ordinal);
        Cache = new ResultCache(options.CacheEntries);
        Queue = new QueueGate(options.MaxQueue);
        Concurrency = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        foreach (var entry in Models.Values)
            foreach (var kind in new[] { TaskKind.Embed, TaskKind.Classify, TaskKind.Rerank })
                _batchers[(entry.Name, kind)] = new Batcher(entry, kind, this);
        if (options.IdleUnload is { } idle) _idleLoop = Task.Run(() => UnloadIdleAsync(idle));
    }

    private volatile bool _warm;
    /// <summary>Why warm-up failed (a model that does not load), else null.</summary>
    public volatile string? WarmUpError;
    /// <summary>Completes when warm-up has loaded and run every model (or failed); null without --warm-up.</summary>
    internal Task? WarmUpTask { get; private set; }

    /// <summary>Ready to answer: warm-up is done, or there is none.</summary>
    public bool IsReady => !Options.WarmUp || _warm;

    /// <summary>Loads every model and runs one forward pass on it, in the background (GET /ready turns 200 after).</summary>
    public void StartWarmUp() => WarmUpTask = Task.Run(async () =>
    {
        try
        {
            foreach (var entry in Models.Values)
            {
                using var lease = await entry.AcquireAsync(Stopping).ConfigureAwait(false);
                lease.Model.Embed(["warm up"]);
            }
            _warm = true;
        }
        catch (OperationCanceledException) { }
        catch (Exception e) { WarmUpError = e.Message; }
    });

    public Batcher Batcher(ModelEntry entry, TaskKind kind) => _batchers[(entry.Name, kind)];

    /// <summary>Requests waiting for a batch on <paramref name="entry"/> (embeddings, classification and rerank together).</summary>
    public int QueueDepth(ModelEntry entry) =>
        Batcher(entry, TaskKind.Embed).Waiting + Batcher(entry, TaskKind.Classify).Waiting + Batcher(entry, TaskKind.Rerank).Waiting;

    public ModelEntry Find(string name) => Models.TryGetValue(name, out var e) ? e
        : throw ApiException.NotFound($"model '{name}' is not served here; served models: {string.Join(", ", Models.Keys.Order(StringComparer.Ordinal))}");

    /// <summary>Unloads models nobody has used for <paramref name="idle"/> (checked a few times per idle period).</summary>
    private async Task UnloadIdleAsync(TimeSpan idle)
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(idle.TotalMilliseconds / 4, 20, 1000));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(Stopping).ConfigureAwait(false))
                foreach (var e in Models.Values)
                    if (e.IsLoaded && e.Users == 0 && e.IdleMs >= idle.TotalMilliseconds)
                        await e.UnloadAsync(Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        if (WarmUpTask != null) await WarmUpTask.ConfigureAwait(false);
        foreach (var b in _batchers.Values) await b.StopAsync().ConfigureAwait(false);
        if (_idleLoop != null) await _idleLoop.ConfigureAwait(false);
        foreach (var e in Models.Values) await e.UnloadAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
