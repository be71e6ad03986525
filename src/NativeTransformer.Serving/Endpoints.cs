using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CommunityToolkit.HighPerformance.Buffers;
using Microsoft.AspNetCore.Http;

namespace NativeTransformer.Serving;

/// <summary>The HTTP handlers. Plain <see cref="RequestDelegate"/>s (no parameter binding, so no reflection).</summary>
internal sealed class Endpoints(ServeState state)
{
    public async Task Embeddings(HttpContext ctx)
    {
        var request = await ParseBodyAsync(ctx, body => RequestParser.Parse(body, state.Options, embeddings: true)).ConfigureAwait(false);
        var entry = state.Find(request.Model);
        // The prompt is prepended here, so the batcher, its de-duplication and the result cache see the text the model embeds.
        string prefix;
        using (var cts = Deadline(ctx))
        {
            try { prefix = await entry.PromptPrefixAsync(request.PromptName, request.Prompt, cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (cts.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested)
            {
                state.Metrics.TimedOut();
                throw new ApiException(504, "timeout", $"the request did not finish within {state.Options.TimeoutMs} ms (--timeout-ms)");
            }
        }
        var inputs = prefix.Length == 0 ? request.Inputs : Array.ConvertAll(request.Inputs, t => prefix + t);
        var results = await InferAsync(ctx, entry, TaskKind.Embed, Texts(inputs)).ConfigureAwait(false);
        var usage = Usage(results);
        var vectors = Array.ConvertAll(results, r => r.Embedding!);
        if (request.Dimensions is int dimensions) vectors = Truncate(vectors, dimensions, entry.Name);
        if (request.Base64)
        {
            var data = vectors.Select((v, i) => new Base64Embedding("embedding", i, Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan())))).ToArray();
            await WriteAsync(ctx, 200, new EmbeddingsResponse<Base64Embedding>("list", data, entry.Name, usage), ApiJsonContext.Api.EmbeddingsResponseBase64Embedding).ConfigureAwait(false);
        }
        else
        {
            var data = vectors.Select((v, i) => new FloatEmbedding("embedding", i, v)).ToArray();
            await WriteAsync(ctx, 200, new EmbeddingsResponse<FloatEmbedding>("list", data, entry.Name, usage), ApiJsonContext.Api.EmbeddingsResponseFloatEmbedding).ConfigureAwait(false);
        }
    }

    /// <summary>"dimensions": each vector's first floats, renormalised (OpenAI's and Matryoshka models' meaning). After
    /// inference, so the batcher and result cache keep serving full vectors; more than the model has is a 400.</summary>
    private static float[][] Truncate(float[][] vectors, int dimensions, string model)
    {
        int size = vectors.Length > 0 ? vectors[0].Length : dimensions;
        if (dimensions > size)
            throw ApiException.BadRequest($"'dimensions' is {dimensions} but model '{model}' makes embeddings of {size} dimensions; ask for at most {size}");
        return Array.ConvertAll(vectors, v => EmbeddingDimensions.Truncate(v, dimensions));
    }

    public async Task Classify(HttpContext ctx)
    {
        var request = await ParseBodyAsync(ctx, body => RequestParser.Parse(body, state.Options, embeddings: false)).ConfigureAwait(false);
        var entry = state.Find(request.Model);
        var results = await InferAsync(ctx, entry, TaskKind.Classify, Texts(request.Inputs)).ConfigureAwait(false);
        var data = results.Select((r, i) => new ClassifyItem(i, r.Classification!.Label, r.Classification.Score, r.Classification.Logits,
            r.Classification.Scores, Models.SequenceScoring.Name(r.Classification.Function))).ToArray();
        await WriteAsync(ctx, 200, new ClassifyResponse(data, entry.Name, Usage(results)), ApiJsonContext.Api.ClassifyResponse).ConfigureAwait(false);
    }

    /// <summary>POST /v1/rerank (the Cohere / Jina shape): scores every (query, document) pair with the model's one-logit
    /// head and answers the documents best first, the top_n first when given.</summary>
    public async Task Rerank(HttpContext ctx)
    {
        var request = await ParseBodyAsync(ctx, body => RequestParser.ParseRerank(body, state.Options)).ConfigureAwait(false);
        var entry = state.Find(request.Model);
        var pairs = new TextInput[request.Documents.Length];
        for (int i = 0; i < pairs.Length; i++) pairs[i] = new TextInput(request.Query, request.Documents[i]);
        var results = await InferAsync(ctx, entry, TaskKind.Rerank, pairs).ConfigureAwait(false);
        var logits = new float[results.Length];
        for (int i = 0; i < logits.Length; i++) logits[i] = results[i].Classification!.Logits[0];
        var order = TransformerModel.RerankOrder(logits);   // the library's order: by logit, ties in input order
        int n = Math.Min(order.Length, request.TopN ?? int.MaxValue);
        var items = new RerankItem[n];
        for (int k = 0; k < n; k++)
        {
            int i = order[k];
            items[k] = new RerankItem(i, results[i].Classification!.Score, request.ReturnDocuments ? new RerankDocument(request.Documents[i]) : null);
        }
        await WriteAsync(ctx, 200, new RerankResponse(entry.Name, items, Usage(results)), ApiJsonContext.Api.RerankResponse).ConfigureAwait(false);
    }

    private static TextInput[] Texts(string[] texts)
    {
        var inputs = new TextInput[texts.Length];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = new TextInput(texts[i]);
        return inputs;
    }

    public Task ListModels(HttpContext ctx)
    {
        var data = state.Models.Values.OrderBy(e => e.Name, StringComparer.Ordinal).Select(Info).ToArray();
        return WriteAsync(ctx, 200, new ModelList("list", data), ApiJsonContext.Api.ModelList);
    }

    public async Task LoadModel(HttpContext ctx)
    {
        var entry = state.Find(RouteName(ctx));
        using var cts = Deadline(ctx);
        await entry.LoadAsync(cts.Token).ConfigureAwait(false);
        await WriteAsync(ctx, 200, Info(entry), ApiJsonContext.Api.ModelInfo).ConfigureAwait(false);
    }

    public async Task UnloadModel(HttpContext ctx)
    {
        var entry = state.Find(RouteName(ctx));
        await entry.UnloadAsync(ctx.RequestAborted).ConfigureAwait(false);
        await WriteAsync(ctx, 200, Info(entry), ApiJsonContext.Api.ModelInfo).ConfigureAwait(false);
    }

    public Task Health(HttpContext ctx) =>
        WriteAsync(ctx, 200, new Health("ok", state.Models.Values.Count(e => e.IsLoaded)), ApiJsonContext.Api.Health);

    /// <summary>GET /ready: 200 once warm-up (one forward pass per model) is done, 503 before (or when it failed, with why).</summary>
    public Task Ready(HttpContext ctx)
    {
        int loaded = state.Models.Values.Count(e => e.IsLoaded);
        return state.IsReady ? WriteAsync(ctx, 200, new Health("ready", loaded), ApiJsonContext.Api.Health)
            : WriteAsync(ctx, 503, new Health(state.WarmUpError is { } error ? "warm-up failed: " + error : "warming_up", loaded), ApiJsonContext.Api.Health);
    }

    public Task Metrics(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        // A loop, not Select into a tuple: LINQ selecting into a struct costs tens of KB in the Native AOT binary.
        var models = new List<(string Name, bool Loaded, int QueueDepth)>(state.Models.Count);
        foreach (var e in state.Models.Values.OrderBy(e => e.Name, StringComparer.Ordinal)) models.Add((e.Name, e.IsLoaded, state.QueueDepth(e)));
        string text = state.Metrics.Render(state.Queue.Count, Volatile.Read(ref state.InFlightBatches), models);
        return ctx.Response.WriteAsync(text);
    }

    /// <summary>POST /debug/gc (only with <see cref="ServeOptions.DebugGcEndpoint"/>): collects everything that is
    /// garbage — full blocking compacting GC, finalizers, and again for what they freed — and reports what is left.
    /// Live bytes that keep rising with the request count across calls mean a leak; flat means RSS growth is GC budget.</summary>
    public Task DebugGc(HttpContext ctx)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var report = new GcReport(GC.GetTotalMemory(forceFullCollection: false), info.HeapSizeBytes, info.FragmentedBytes,
            info.TotalCommittedBytes, Environment.WorkingSet, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            state.Metrics.TotalRequests,
            // The settings the GC runs with (concurrent, conserve memory, limits): shows what the binary baked in
            // and which DOTNET_GC* variables took effect.
            GC.GetConfigurationVariables().ToDictionary(p => p.Key, p => Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""));
        return WriteAsync(ctx, 200, report, ApiJsonContext.Api.GcReport);
    }

    /// <summary>Answers what the cache holds, queues the rest (identical texts of the request once) and waits,
    /// up to the per-request timeout, for the batch.</summary>
    internal async Task<InferenceResult[]> InferAsync(HttpContext ctx, ModelEntry entry, TaskKind kind, TextInput[] texts)
    {
        entry.Touch();
        var results = new InferenceResult[texts.Length];
        var missing = new Dictionary<TextInput, List<int>>();
        for (int i = 0; i < texts.Length; i++)
        {
            if (state.Cache.TryGet(new CacheKey(entry.Name, kind, texts[i].Text, texts[i].TextPair), out var hit)) { results[i] = hit; state.Metrics.CacheHit(); continue; }
            if (state.Cache.Capacity > 0) state.Metrics.CacheMiss();
            if (!missing.TryGetValue(texts[i], out var at)) missing[texts[i]] = at = [];
            at.Add(i);
        }
        if (missing.Count == 0) return results;

        using var cts = Deadline(ctx);
        var queued = missing.Keys.ToArray();
        try
        {
            // A client batch larger than --max-batch goes as several work items of at most --max-batch inputs each, so
            // one forward pass never exceeds the batcher's size (the library is batch-invariant: results are unchanged).
            int size = state.Options.MaxBatch;
            var parts = new List<Task<InferenceResult[]>>();
            try
            {
                for (int start = 0; start < queued.Length; start += size)
                    parts.Add(state.Batcher(entry, kind).SubmitAsync(queued[start..Math.Min(queued.Length, start + size)], cts.Token));
            }
            catch { cts.Cancel(); throw; }   // the parts already queued leave the queue unanswered
            var computed = await Task.WhenAll(parts).WaitAsync(cts.Token).ConfigureAwait(false);
            for (int q = 0; q < queued.Length; q++)
                foreach (int i in missing[queued[q]]) results[i] = computed[q / size][q % size];
            return results;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested)
        {
            state.Metrics.TimedOut();
            throw new ApiException(504, "timeout", $"the request did not finish within {state.Options.TimeoutMs} ms (--timeout-ms)");
        }
    }

    internal CancellationTokenSource Deadline(HttpContext ctx)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        cts.CancelAfter(state.Options.TimeoutMs);
        return cts;
    }

    /// <summary>Reads the whole body into a pooled buffer, parses it with <paramref name="parse"/> and returns the
    /// buffer to the pool. The parsers copy out what they keep (strings, ids), so nothing refers to the buffer after.</summary>
    internal async Task<T> ParseBodyAsync<T>(HttpContext ctx, Func<ReadOnlyMemory<byte>, T> parse)
    {
        using var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        return parse(body.WrittenMemory);
    }

    /// <summary>The whole body, refusing more than --max-body-bytes with 413 (Kestrel enforces the same limit
    /// for bodies without a Content-Length). Read straight into an ArrayPool-backed writer (no per-request chunk array,
    /// no MemoryStream doubling and copying); the caller disposes it.</summary>
    private async Task<ArrayPoolBufferWriter<byte>> ReadBodyAsync(HttpContext ctx)
    {
        const int ChunkSize = 16 * 1024;
        long max = state.Options.MaxBodyBytes;
        if (ctx.Request.ContentLength is long declared && declared > max) throw TooLarge(declared, max);
        // Not sized from Content-Length: a client that declares a large body and sends little must not make us rent it.
        var buffer = new ArrayPoolBufferWriter<byte>(ChunkSize);
        bool handedOver = false;
        try
        {
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(buffer.GetMemory(ChunkSize), ctx.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.WrittenCount + (long)n > max) throw TooLarge(null, max);
                buffer.Advance(n);
            }
            handedOver = true;
            return buffer;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge) { throw TooLarge(null, max); }
        // Kestrel reports some broken chunked framing (a chunk size overflowing 32 bits) as a plain IOException
        // rather than BadHttpRequestException: the client's fault, so 400, not 500. A reset is not this case.
        catch (IOException e) when (e is not Microsoft.AspNetCore.Connections.ConnectionResetException && !ctx.RequestAborted.IsCancellationRequested)
        {
            ctx.Response.Headers.Connection = "close";   // the framing is lost: the connection cannot carry another request
            throw ApiException.BadRequest("the request body could not be read: " + e.Message);
        }
        finally
        {
            if (!handedOver) buffer.Dispose();
        }
    }

    private static ApiException TooLarge(long? size, long max) =>
        new(413, "payload_too_large", (size is null ? "the request body is" : $"the request body is {size} bytes,") + $" over the limit of {max} bytes (--max-body-bytes)");

    private static string RouteName(HttpContext ctx) => ctx.Request.RouteValues["name"] as string ?? "";

    private static ModelInfo Info(ModelEntry e) => new(e.Name, "model", "ntr", e.IsLoaded, e.Directory);

    private static Usage Usage(InferenceResult[] results)
    {
        int tokens = results.Sum(r => r.Tokens);
        return new Usage(tokens, tokens);
    }

    internal static Task WriteAsync<T>(HttpContext ctx, int status, T value, JsonTypeInfo<T> info)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(ctx.Response.Body, value, info, ctx.RequestAborted);
    }
}
