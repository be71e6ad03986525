using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace NativeTransformer.Serving;

/// <summary>A Prometheus histogram: cumulative buckets, sum and count.</summary>
internal sealed class Histogram(params double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1];   // last = +Inf
    private double _sum;
    private long _count;
    private readonly Lock _lock = new();

    public void Observe(double value)
    {
        int i = 0;
        while (i < bounds.Length && value > bounds[i]) i++;
        lock (_lock) { _counts[i]++; _sum += value; _count++; }
    }

    public void Render(StringBuilder sb, string name, string help)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(" histogram\n");
        lock (_lock)
        {
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += _counts[i];
                string le = i < bounds.Length ? Num(bounds[i]) : "+Inf";
                sb.Append(name).Append("_bucket{le=\"").Append(le).Append("\"} ").Append(cumulative).Append('\n');
            }
            sb.Append(name).Append("_sum ").Append(Num(_sum)).Append('\n');
            sb.Append(name).Append("_count ").Append(_count).Append('\n');
        }
    }

    internal static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>The server's counters, rendered as Prometheus text exposition format 0.0.4 at GET /metrics.</summary>
internal sealed class ServeMetrics
{
    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> _requests = new();
    public Histogram BatchSize { get; } = new(1, 2, 4, 8, 16, 32, 64, 128, 256);
    /// <summary>Time the TEI routes spend tokenizing a request to check its lengths.</summary>
    public Histogram Tokenization { get; } = new(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1);
    /// <summary>Time a request's work item waited before a batch took it.</summary>
    public Histogram QueueTime { get; } = new(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);
    /// <summary>Time a batch's forward pass took (the library's own tokenization included).</summary>
    public Histogram InferenceTime { get; } = new(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5);
    /// <summary>Tokens per batch (special tokens included, after truncation).</summary>
    public Histogram BatchTokens { get; } = new(16, 64, 256, 1024, 4096, 16384, 65536);
    public Histogram Latency { get; } = new(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);
    private long _connectionsOpen, _connectionsTotal;
    private long _cacheHits, _cacheMisses, _batchInputs, _dedupedInputs, _rejected, _timeouts, _loads, _unloads;

    public long CacheHits => Interlocked.Read(ref _cacheHits);
    public long CacheMisses => Interlocked.Read(ref _cacheMisses);

    /// <summary>Requests answered so far (all endpoints and statuses).</summary>
    public long TotalRequests => _requests.Values.Sum();

    public void Request(string endpoint, int status, double seconds)
    {
        _requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);
        Latency.Observe(seconds);
    }

    /// <summary>TCP connections open now (counted by the listener's connection middleware).</summary>
    public long ConnectionsOpen => Interlocked.Read(ref _connectionsOpen);
    public void ConnectionOpened() { Interlocked.Increment(ref _connectionsOpen); Interlocked.Increment(ref _connectionsTotal); }
    public void ConnectionClosed() => Interlocked.Decrement(ref _connectionsOpen);

    public void CacheHit() => Interlocked.Increment(ref _cacheHits);
    public void CacheMiss() => Interlocked.Increment(ref _cacheMisses);
    public void Rejected() => Interlocked.Increment(ref _rejected);
    public void TimedOut() => Interlocked.Increment(ref _timeouts);
    public void Loaded() => Interlocked.Increment(ref _loads);
    public void Unloaded() => Interlocked.Increment(ref _unloads);

    /// <summary>A batch computed <paramref name="computed"/> distinct texts out of <paramref name="inputs"/> queued ones.</summary>
    public void Batch(int inputs, int computed)
    {
        BatchSize.Observe(inputs);
        Interlocked.Add(ref _batchInputs, inputs);
        Interlocked.Add(ref _dedupedInputs, inputs - computed);
    }

    public string Render(int queueDepth, int inFlightBatches, IEnumerable<(string Name, bool Loaded, int QueueDepth)> models)
    {
        var sb = new StringBuilder(4096);
        Header(sb, "ntr_requests_total", "counter", "HTTP requests by endpoint and status code.");
        foreach (var ((endpoint, status), n) in _requests.OrderBy(p => p.Key.Endpoint, StringComparer.Ordinal).ThenBy(p => p.Key.Status))
            sb.Append("ntr_requests_total{endpoint=\"").Append(Escape(endpoint)).Append("\",status=\"").Append(status).Append("\"} ").Append(n).Append('\n');
        Latency.Render(sb, "ntr_request_duration_seconds", "Request latency from first byte read to response written.");
        Tokenization.Render(sb, "ntr_tokenization_duration_seconds", "Time the TEI routes spent tokenizing a request (length checks).");
        QueueTime.Render(sb, "ntr_queue_duration_seconds", "Time a request waited for a batch to take it.");
        InferenceTime.Render(sb, "ntr_inference_duration_seconds", "Time a batch's forward pass took (model tokenization included).");
        BatchTokens.Render(sb, "ntr_batch_tokens", "Tokens per batch (special tokens included).");
        BatchSize.Render(sb, "ntr_batch_size", "Inputs per batch (before de-duplicating identical texts).");
        Counter(sb, "ntr_batch_inputs_total", "Inputs that went through batches.", Interlocked.Read(ref _batchInputs));
        Counter(sb, "ntr_batch_deduplicated_inputs_total", "Inputs answered by an identical text in the same batch.", Interlocked.Read(ref _dedupedInputs));
        Gauge(sb, "ntr_queue_depth", "Requests waiting for a batch (all models; bounded by --max-queue).", queueDepth);
        var list = models.ToList();
        Header(sb, "ntr_model_queue_depth", "gauge", "Requests waiting for a batch of the named model.");
        foreach (var m in list)
            sb.Append("ntr_model_queue_depth{model=\"").Append(Escape(m.Name)).Append("\"} ").Append(m.QueueDepth).Append('\n');
        Gauge(sb, "ntr_batches_in_flight", "Batches being computed.", inFlightBatches);
        Gauge(sb, "ntr_connections_open", "TCP connections open now.", ConnectionsOpen);
        Counter(sb, "ntr_connections_total", "TCP connections accepted since start.", Interlocked.Read(ref _connectionsTotal));
        Counter(sb, "ntr_queue_rejected_total", "Requests refused because the queue was full (429).", Interlocked.Read(ref _rejected));
        Counter(sb, "ntr_request_timeouts_total", "Requests that hit the per-request timeout (504).", Interlocked.Read(ref _timeouts));
        Counter(sb, "ntr_cache_hits_total", "Inputs answered from the result cache.", CacheHits);
        Counter(sb, "ntr_cache_misses_total", "Inputs not found in the result cache.", CacheMisses);
        Counter(sb, "ntr_model_loads_total", "Model loads.", Interlocked.Read(ref _loads));
        Counter(sb, "ntr_model_unloads_total", "Model unloads (explicit or idle).", Interlocked.Read(ref _unloads));
        Gauge(sb, "ntr_models_loaded", "Models currently loaded.", list.Count(m => m.Loaded));
        Header(sb, "ntr_model_loaded", "gauge", "1 when the named model is loaded, else 0.");
        foreach (var m in list)
            sb.Append("ntr_model_loaded{model=\"").Append(Escape(m.Name)).Append("\"} ").Append(m.Loaded ? 1 : 0).Append('\n');
        Gauge(sb, "process_resident_memory_bytes", "Resident set size of the process.", Environment.WorkingSet);
        // The managed side of RSS, to tell GC heap growth from native growth in soaks.
        var gc = GC.GetGCMemoryInfo();
        Gauge(sb, "dotnet_gc_heap_size_bytes", "Managed heap size after the last GC (live objects and fragmentation).", gc.HeapSizeBytes);
        Gauge(sb, "dotnet_gc_committed_bytes", "Memory the GC has committed from the OS.", gc.TotalCommittedBytes);
        Gauge(sb, "dotnet_gc_collections_gen2", "Gen-2 collections since start.", GC.CollectionCount(2));
        return sb.ToString();
    }

    private static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Counter(StringBuilder sb, string name, string help, long value)
    {
        Header(sb, name, "counter", help);
        sb.Append(name).Append(' ').Append(value).Append('\n');
    }

    private static void Gauge(StringBuilder sb, string name, string help, long value)
    {
        Header(sb, name, "gauge", help);
        sb.Append(name).Append(' ').Append(value).Append('\n');
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
