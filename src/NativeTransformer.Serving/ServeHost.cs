using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using KestrelServerLimits = Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits;
using KestrelServerOptions = Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions;
using ListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;
using MinDataRate = Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NativeTransformer.Serving;

/// <summary>
/// The <c>ntr serve</c> HTTP server: Kestrel on the empty (AOT-compatible, smallest) builder with the endpoints of
/// <see cref="Endpoints"/>. Start, read <see cref="Address"/>, and stop gracefully (SIGTERM / Ctrl-C or
/// <see cref="StopAsync"/>): the listener closes at once, in-flight requests finish, then the batch loops stop.
/// </summary>
public sealed class ServeHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServeState _state;

    private ServeHost(WebApplication app, ServeState state) { _app = app; _state = state; }

    /// <summary>The address the server listens on (the real port when <see cref="ServeOptions.Port"/> was 0); set by <see cref="StartAsync"/>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Cancelled when shutdown begins (tests).</summary>
    internal CancellationToken ShutdownStarted => _app.Lifetime.ApplicationStopping;

    internal ServeState State => _state;

    /// <summary>The mapped routes (tests check the OpenAPI document lists each).</summary>
    internal IEnumerable<RouteEndpoint> Routes => ((IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>();

    /// <summary>Builds the server. Throws <see cref="ArgumentException"/> for bad options.</summary>
    public static ServeHost Create(ServeOptions options)
    {
        options.Validate();
        // The EMPTY builder, not the slim one: no configuration files or environment sources, no logging
        // providers, no HTTPS/HTTP-3 in Kestrel (UseKestrelCore), routing without regex constraints
        // (AddRoutingCore). Everything here is configured in code, which makes the Native AOT ntr ~0.6 MB smaller.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        // Logging services (no providers): without them the empty builder's hosting layer retained ~400 bytes per
        // request (live heap after forced GCs grew linearly: found by ServeMemoryTests and bench/load/heap.sh).
        builder.Services.AddLogging();
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        var metrics = new ServeMetrics();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            SetLimits(k.Limits, options);
            Listen(k, options.Host, options.Port, metrics);
        });
        var app = builder.Build();
        var state = new ServeState(options, metrics);
        var api = new Endpoints(state);

        app.Use(next => ctx => Observe(ctx, next, state));
        if (options.ApiKey is { } key) app.Use(next => ctx => Authorize(ctx, next, key));
        Map(app, "POST", "/v1/embeddings", api.Embeddings);
        Map(app, "POST", "/v1/classify", api.Classify);
        Map(app, "POST", "/v1/rerank", api.Rerank);
        Map(app, "GET", "/v1/models", api.ListModels);
        Map(app, "POST", "/v1/models/{name}/load", api.LoadModel);
        Map(app, "POST", "/v1/models/{name}/unload", api.UnloadModel);
        var tei = new TeiEndpoints(state, api);
        Map(app, "POST", "/embed", tei.Embed);
        Map(app, "POST", "/embed_all", tei.EmbedAll);
        Map(app, "POST", "/predict", tei.Predict);
        Map(app, "POST", "/rerank", tei.Rerank);
        Map(app, "POST", "/similarity", tei.Similarity);
        Map(app, "POST", "/tokenize", tei.Tokenize);
        Map(app, "POST", "/decode", tei.Decode);
        Map(app, "GET", "/info", tei.Info);
        Map(app, "GET", "/openapi.json", OpenApi.Serve);
        Map(app, "GET", "/health", api.Health);
        Map(app, "GET", "/ready", api.Ready);
        Map(app, "GET", "/metrics", api.Metrics);
        if (options.DebugGcEndpoint) Map(app, "POST", "/debug/gc", api.DebugGc);
        return new ServeHost(app, state);
    }

    public async Task StartAsync(CancellationToken ct = default)
    {
        await _app.StartAsync(ct).ConfigureAwait(false);
        Address = new Uri(_app.Urls.First());
        if (_state.Options.WarmUp) _state.StartWarmUp();
    }

    /// <summary>Graceful stop: no new connections, in-flight requests finish (up to <see cref="ServeOptions.ShutdownTimeout"/>).</summary>
    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    /// <summary>Completes when the server has stopped (SIGTERM, Ctrl-C or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        await _state.DisposeAsync().ConfigureAwait(false);
    }

    private static void Map(WebApplication app, string method, string pattern, RequestDelegate handler) =>
        app.MapMethods(pattern, [method], handler);

    /// <summary>Limits that keep hostile or broken clients from holding connections, memory or file descriptors:
    /// a connection cap, header and keep-alive timeouts (slowloris, idle sockets) and minimum upload/download
    /// rates (slow bodies, clients that never read their response). Header sizes keep Kestrel's defaults
    /// (request line 8 KB: 414; headers 32 KB / 100 fields: 431).</summary>
    private static void SetLimits(KestrelServerLimits limits, ServeOptions o)
    {
        limits.MaxRequestBodySize = o.MaxBodyBytes;
        limits.MaxConcurrentConnections = o.MaxConnections;
        limits.MaxConcurrentUpgradedConnections = 0;   // no WebSockets or other upgrades here
        limits.KeepAliveTimeout = o.KeepAliveTimeout;
        limits.RequestHeadersTimeout = o.RequestHeadersTimeout;
        var rate = o.MinDataRateBytesPerSecond > 0 ? new MinDataRate(o.MinDataRateBytesPerSecond, o.MinDataRateGrace) : null;
        limits.MinRequestBodyDataRate = rate;
        limits.MinResponseDataRate = rate;
    }

    /// <summary>Listens on host:port, counting open connections for /metrics (ntr_connections_open).</summary>
    private static void Listen(KestrelServerOptions k, string host, int port, ServeMetrics metrics)
    {
        void Count(ListenOptions l) => l.Use(next => async connection =>
        {
            metrics.ConnectionOpened();
            try { await next(connection).ConfigureAwait(false); }
            finally { metrics.ConnectionClosed(); }
        });
        if (ServeOptions.ListenAddress(host) is { } ip) k.Listen(ip, port, Count);
        else k.ListenAnyIP(port, Count);
    }

    /// <summary>Outermost middleware: turns errors into JSON {"error":{"message","type"}}, gives routing's bare
    /// 404/405 a JSON body, and records every request in the metrics.</summary>
    private static async Task Observe(HttpContext ctx, RequestDelegate next, ServeState state)
    {
        long start = Stopwatch.GetTimestamp();
        int? clientClosed = null;
        try
        {
            await next(ctx).ConfigureAwait(false);
            if (!ctx.Response.HasStarted && ctx.Response.StatusCode == 405)
                await WriteError(ctx, new ApiException(405, "method_not_allowed", $"{ctx.Request.Method} is not allowed on {ctx.Request.Path}")).ConfigureAwait(false);
            else if (!ctx.Response.HasStarted && ctx.Response.StatusCode == 404 && ctx.GetEndpoint() is null)
                await WriteError(ctx, new ApiException(404, "not_found_error", $"no endpoint {ctx.Request.Method} {ctx.Request.Path}")).ConfigureAwait(false);
        }
        // Whatever fails once the client is gone (or Kestrel cut a too-slow connection) has nobody to answer:
        // cancellation, a reset socket, a body cut short. Not a server error; counted as 499 like nginx.
        // A reset can surface (ConnectionResetException from a body read) before RequestAborted is signalled.
        catch (Exception e) when (ctx.RequestAborted.IsCancellationRequested || e is Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            clientClosed = ClientClosedRequest;
        }
        catch (ApiException e) when (!ctx.Response.HasStarted) { await WriteError(ctx, e).ConfigureAwait(false); }
        catch (BadHttpRequestException e) when (!ctx.Response.HasStarted)
        {
            await WriteError(ctx, new ApiException(e.StatusCode, "invalid_request_error", e.Message)).ConfigureAwait(false);
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            await WriteError(ctx, new ApiException(500, "internal_error", $"{e.GetType().Name}: {e.Message}")).ConfigureAwait(false);
        }
        finally
        {
            string endpoint = ctx.GetEndpoint() is RouteEndpoint re ? re.RoutePattern.RawText ?? "?" : "unmatched";
            state.Metrics.Request(endpoint, clientClosed ?? ctx.Response.StatusCode, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    /// <summary>Routes open without the API key: liveness, readiness and the Prometheus scrape.</summary>
    internal static readonly string[] OpenPaths = ["/health", "/ready", "/metrics"];

    /// <summary>Checks <c>Authorization: Bearer KEY</c> in constant time. The 401 never repeats what was sent.</summary>
    private static Task Authorize(HttpContext ctx, RequestDelegate next, ApiKey key)
    {
        if (Array.IndexOf(OpenPaths, ctx.Request.Path.Value) >= 0) return next(ctx);
        string header = ctx.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && key.Matches(header[scheme.Length..].Trim())) return next(ctx);
        ctx.Response.Headers.WWWAuthenticate = "Bearer";
        throw new ApiException(401, "unauthorized", "missing or wrong API key: send the header 'Authorization: Bearer <key>' (--api-key / NTR_API_KEY)") { TeiType = "Unauthorized" };
    }

    /// <summary>The status /metrics records for a request whose client went away before its answer (nginx's 499).</summary>
    internal const int ClientClosedRequest = 499;

    private static Task WriteError(HttpContext ctx, ApiException e)
    {
        if (e.RetryAfterSeconds is int s) ctx.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The rest of an oversize body is never read, so the connection cannot carry another request: say so,
        // or a client may reuse it and see it closed under its next request.
        if (e.Status == StatusCodes.Status413PayloadTooLarge) ctx.Response.Headers.Connection = "close";
        if (Array.IndexOf(TeiEndpoints.Paths, ctx.Request.Path.Value) >= 0) return WriteTeiError(ctx, e);
        return Endpoints.WriteAsync(ctx, e.Status, new ErrorResponse(new ErrorBody(e.Message, e.Type)), ApiJsonContext.Api.ErrorResponse);
    }

    /// <summary>TEI's error shape {"error", "error_type"}; TEI answers a bad request with 422, never 400.</summary>
    private static Task WriteTeiError(HttpContext ctx, ApiException e)
    {
        int status = e.Status == 400 ? 422 : e.Status;
        string type = e.TeiType ?? status switch
        {
            429 => "Overloaded",
            503 => "Unhealthy",
            >= 500 or 424 => "Backend",
            _ => "Validation",
        };
        return Endpoints.WriteAsync(ctx, status, new TeiError(e.Message, type), TeiJsonContext.Info<TeiError>());
    }
}
