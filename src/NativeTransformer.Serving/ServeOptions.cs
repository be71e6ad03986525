namespace NativeTransformer.Serving;

/// <summary>Everything <c>ntr serve</c> is configured with. Defaults suit a small CPU box.</summary>
public sealed record ServeOptions
{
    /// <summary>Served models: name → model folder. Loaded on first use.</summary>
    public IReadOnlyDictionary<string, string> Models { get; init; } = new Dictionary<string, string>();
    /// <summary>Address to listen on: an IP, "localhost", or "*" / "0.0.0.0" for every interface.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one (see <see cref="ServeHost.Address"/>).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Load options every model is loaded with (BatchSize is raised to <see cref="MaxBatch"/>).</summary>
    public LoadOptions LoadOptions { get; init; } = new();

    /// <summary>Most inputs one forward pass takes (several requests are merged up to this).</summary>
    public int MaxBatch { get; init; } = 32;
    /// <summary>How long a batch waits for more requests after its first one arrives.</summary>
    public int MaxWaitMs { get; init; } = 5;
    /// <summary>Batches running at once, across all models.</summary>
    public int MaxConcurrency { get; init; } = 1;
    /// <summary>Requests waiting for a batch, across all models; one more gets 429 with Retry-After.</summary>
    public int MaxQueue { get; init; } = 256;

    /// <summary>Largest request body in bytes (413 above it).</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>Most inputs in one request.</summary>
    public int MaxInputs { get; init; } = 256;
    /// <summary>Longest input text in characters (UTF-16 code units).</summary>
    public int MaxTextChars { get; init; } = 20_000;
    /// <summary>Per-request deadline (queueing, loading and computing); 504 after it.</summary>
    public int TimeoutMs { get; init; } = 30_000;

    /// <summary>Entries of the LRU result cache (0 = no cache).</summary>
    public int CacheEntries { get; init; } = 1024;
    /// <summary>Unload a model after this long without requests (null = never).</summary>
    public TimeSpan? IdleUnload { get; init; }
    /// <summary>Open connections at most (Kestrel MaxConcurrentConnections); one more is closed at once without
    /// a response. Bounds memory and file descriptors under a connection flood.</summary>
    public int MaxConnections { get; init; } = 4096;
    /// <summary>An idle keep-alive connection is closed after this long.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>A client must send its request line and headers within this (slowloris); else 408 and close.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Slowest request-body upload and response download tolerated, in bytes per second, once
    /// <see cref="MinDataRateGrace"/> has passed; a slower connection is closed (slow uploads get 408).</summary>
    public double MinDataRateBytesPerSecond { get; init; } = 240;
    /// <summary>How long a transfer may run below <see cref="MinDataRateBytesPerSecond"/> before it is cut (over 1 s:
    /// Kestrel checks rates once a second).</summary>
    public TimeSpan MinDataRateGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>When set, every route except /health, /ready and /metrics needs <c>Authorization: Bearer KEY</c> (else 401).</summary>
    public ApiKey? ApiKey { get; init; }
    /// <summary>Load every model and run one forward pass at start; GET /ready answers 503 until that is done. Off: models
    /// load on first use and /ready answers 200 at once.</summary>
    public bool WarmUp { get; init; }

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Serve POST /debug/gc: a forced full compacting collection, answering the live managed heap (bench and
    /// tests use it to tell a leak from GC budget growth). Off by default; NTR_DEBUG_GC_ENDPOINT=1 turns it on.</summary>
    public bool DebugGcEndpoint { get; init; } = Environment.GetEnvironmentVariable("NTR_DEBUG_GC_ENDPOINT") == "1";

    /// <summary>Test hook: awaited before each batch runs (lets a test hold a batch in flight).</summary>
    internal Func<BatchInfo, Task>? BeforeBatch { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (Models.Count == 0) throw new ArgumentException("at least one model is needed (--model name=DIR)");
        foreach (var name in Models.Keys)
            if (!ModelNames.IsValid(name)) throw new ArgumentException($"model name '{name}' is not valid (letters, digits, '-', '_', '.')");
        Positive(MaxBatch, "max batch"); Positive(MaxConcurrency, "max concurrency"); Positive(MaxQueue, "max queue");
        Positive(MaxInputs, "max inputs"); Positive(MaxTextChars, "max text chars"); Positive(TimeoutMs, "timeout");
        if (MaxBodyBytes <= 0) throw new ArgumentException("max body bytes must be positive");
        if (MaxWaitMs < 0) throw new ArgumentException("max wait must be 0 or more milliseconds");
        if (CacheEntries < 0) throw new ArgumentException("cache entries must be 0 or more");
        Positive(MaxConnections, "max connections");
        if (KeepAliveTimeout <= TimeSpan.Zero || RequestHeadersTimeout <= TimeSpan.Zero)
            throw new ArgumentException("keep-alive and request-headers timeouts must be positive");
        if (!(MinDataRateBytesPerSecond >= 0)) throw new ArgumentException("minimum data rate must be 0 or more bytes per second");
        if (MinDataRateGrace <= TimeSpan.FromSeconds(1))
            throw new ArgumentException($"minimum data rate grace period must be over 1 s (Kestrel checks once a second), got {MinDataRateGrace.TotalSeconds} s");
        if (Port is < 0 or > 65535) throw new ArgumentException($"port {Port} is out of range 0..65535");
        ListenAddress(Host);
    }

    /// <summary>The IP address <paramref name="host"/> names: an IP (IPv6 with or without brackets), "localhost"
    /// (IPv4 loopback), or "*" / "0.0.0.0" (every IPv4 and IPv6 interface, returned as null).</summary>
    internal static System.Net.IPAddress? ListenAddress(string host) => host switch
    {
        "*" or "0.0.0.0" => null,
        "localhost" => System.Net.IPAddress.Loopback,
        _ => System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? ip
            : throw new ArgumentException($"host '{host}' is not an IP address, 'localhost' or '*'"),
    };

    private static void Positive(int v, string what)
    {
        if (v <= 0) throw new ArgumentException($"{what} must be positive, got {v}");
    }
}

/// <summary>What the <see cref="ServeOptions.BeforeBatch"/> hook is told about a batch.</summary>
internal sealed record BatchInfo(string Model, TaskKind Kind, int Requests, int Inputs);

/// <summary>The kinds of work a model does; a batch holds one kind. Rerank classifies (query, document) pairs with a
/// one-logit head.</summary>
internal enum TaskKind { Embed, Classify, Rerank }

internal static class ModelNames
{
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
