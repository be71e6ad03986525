using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace NativeTransformer.Tests.Serving;

/// <summary>ntr serve over HTTP on loopback: results equal the library's bit for bit, batching and caching do
/// not change them, and /v1/models, /health and /metrics say what they should.</summary>
public class ServeEndpointTests
{
    private static readonly string[] Texts = ["a gorgeous , witty , seductive movie .", "dull", "", "naïve café résumé", "the plot makes no sense at all ."];

    [Fact]
    public async Task EmbeddingsEqualTheLibraryBitForBit()
    {
        await using var server = await TestServer.StartAsync();
        using var model = TransformerModel.Load(TestServer.MlmDir, new LoadOptions { Threads = 1 });
        var expected = model.Embed(Texts);

        var json = await server.PostOkAsync("/v1/embeddings", TestServer.Body(Texts));
        Assert.Equal("list", json.GetProperty("object").GetString());
        Assert.Equal("mlm", json.GetProperty("model").GetString());
        var data = json.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(Texts.Length, data.Length);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal("embedding", data[i].GetProperty("object").GetString());
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal(expected[i], TestServer.Floats(data[i].GetProperty("embedding")));   // exact bits
        }
        int tokens = Texts.Sum(t => model.Tokenizer.Encode(t, null, model.MaxLength).Length);
        Assert.Equal(tokens, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(tokens, json.GetProperty("usage").GetProperty("total_tokens").GetInt32());

        // A single string is one input; base64 carries the same little-endian float32 bits.
        var one = await server.PostOkAsync("/v1/embeddings", TestServer.Body(Texts[0], extra: "\"encoding_format\":\"base64\""));
        var bytes = Convert.FromBase64String(one.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        Assert.Equal(expected[0], MemoryMarshal.Cast<byte, float>(bytes).ToArray());
    }

    [Fact]
    public async Task ClassifyEqualsTheLibrary()
    {
        await using var server = await TestServer.StartAsync();
        using var model = TransformerModel.Load(TestServer.SstDir, new LoadOptions { Threads = 1 });
        var expected = model.Classify(Texts);

        var json = await server.PostOkAsync("/v1/classify", TestServer.Body(Texts, "sst"));
        var data = json.GetProperty("data").EnumerateArray().ToArray();
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal(expected[i].Label, data[i].GetProperty("label").GetString());
            Assert.Equal(expected[i].Score, data[i].GetProperty("score").GetSingle());
            Assert.Equal(expected[i].Logits, TestServer.Floats(data[i].GetProperty("logits")));
        }
    }

    [Fact]
    public async Task ConcurrentRequestsAreBatchedTogetherWithUnchangedResults()
    {
        var gate = new BatchGate();
        await using var server = await TestServer.StartAsync(o => o with { BeforeBatch = gate.Hook, MaxBatch = 16, MaxWaitMs = 0, CacheEntries = 0 });
        using var model = TransformerModel.Load(TestServer.MlmDir, new LoadOptions { Threads = 1 });

        // The first request's batch is held; the others queue behind it and then go as one batch.
        var first = server.PostOkAsync("/v1/embeddings", TestServer.Body(Texts[0]));
        await gate.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        var rest = Texts.Skip(1).Select(t => server.PostOkAsync("/v1/embeddings", TestServer.Body(new[] { t, "dull" }))).ToArray();
        await TestServer.WaitUntilAsync(() => server.Host.State.Queue.Count == rest.Length, "requests to queue");
        gate.Release();

        var firstJson = await first;
        Assert.Equal(model.Embed([Texts[0]])[0], TestServer.Floats(firstJson.GetProperty("data")[0].GetProperty("embedding")));
        var dull = model.Embed(["dull"])[0];
        for (int i = 0; i < rest.Length; i++)
        {
            var data = (await rest[i]).GetProperty("data");
            Assert.Equal(model.Embed([Texts[i + 1]])[0], TestServer.Floats(data[0].GetProperty("embedding")));
            Assert.Equal(dull, TestServer.Floats(data[1].GetProperty("embedding")));
        }
        Assert.Equal([1, rest.Length], gate.RequestsPerBatch);
        // "dull" is in every queued request: computed once in that batch. (The first queued request is
        // ["dull", "dull"], already reduced to one input before it queued, so 4 requests share 1 of 4 copies.)
        Assert.Equal(rest.Length - 1, await server.MetricAsync("ntr_batch_deduplicated_inputs_total"));
    }

    [Fact]
    public async Task RepeatedTextsHitTheCache()
    {
        await using var server = await TestServer.StartAsync(o => o with { CacheEntries = 8 });
        var body = TestServer.Body(new[] { "a gorgeous , witty , seductive movie ." }, "sst");
        var cold = await server.PostOkAsync("/v1/classify", body);
        double hits = await server.MetricAsync("ntr_cache_hits_total"), batches = await server.MetricAsync("ntr_batch_size_count");
        Assert.Equal(0, hits);
        Assert.Equal(1, await server.MetricAsync("ntr_cache_misses_total"));

        var warm = await server.PostOkAsync("/v1/classify", body);
        Assert.Equal(1, await server.MetricAsync("ntr_cache_hits_total"));
        Assert.Equal(batches, await server.MetricAsync("ntr_batch_size_count"));   // nothing recomputed
        Assert.Equal(TestServer.Floats(cold.GetProperty("data")[0].GetProperty("logits")), TestServer.Floats(warm.GetProperty("data")[0].GetProperty("logits")));

        // The key includes the task and the model: the same text for embeddings is a miss.
        await server.PostOkAsync("/v1/embeddings", TestServer.Body("a gorgeous , witty , seductive movie .", "sst"));
        Assert.Equal(1, await server.MetricAsync("ntr_cache_hits_total"));
    }

    [Fact]
    public async Task UnloadThenRequestReloads()
    {
        await using var server = await TestServer.StartAsync();
        Assert.False(await LoadedAsync(server, "sst"));
        await server.PostOkAsync("/v1/classify", TestServer.Body("fine", "sst"));
        Assert.True(await LoadedAsync(server, "sst"));
        Assert.False(await LoadedAsync(server, "mlm"));   // only what was used

        var unloaded = await server.PostOkAsync("/v1/models/sst/unload", "");
        Assert.False(unloaded.GetProperty("loaded").GetBoolean());
        Assert.False(await LoadedAsync(server, "sst"));
        await server.PostOkAsync("/v1/classify", TestServer.Body("fine again", "sst"));
        Assert.True(await LoadedAsync(server, "sst"));
        Assert.Equal(2, await server.MetricAsync("ntr_model_loads_total"));

        var loaded = await server.PostOkAsync("/v1/models/mlm/load", "");
        Assert.True(loaded.GetProperty("loaded").GetBoolean());
        using var missing = await server.PostAsync("/v1/models/nope/unload", "");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    /// <summary>What GET /v1/models says about <paramref name="name"/>.</summary>
    private static async Task<bool> LoadedAsync(TestServer server, string name)
    {
        var models = JsonDocument.Parse(await server.Client.GetStringAsync("/v1/models")).RootElement.GetProperty("data");
        return models.EnumerateArray().Single(m => m.GetProperty("id").GetString() == name).GetProperty("loaded").GetBoolean();
    }

    [Fact]
    public async Task IdleModelsAreUnloaded()
    {
        await using var server = await TestServer.StartAsync(o => o with { IdleUnload = TimeSpan.FromMilliseconds(100) });
        await server.PostOkAsync("/v1/embeddings", TestServer.Body("x"));
        var entry = server.Host.State.Models["mlm"];
        await TestServer.WaitUntilAsync(() => !entry.IsLoaded, "the idle model to unload");
        await server.PostOkAsync("/v1/embeddings", TestServer.Body("x y"));   // and it comes back
    }

    [Fact]
    public async Task ModelsHealthAndMetricsDescribeTheServer()
    {
        await using var server = await TestServer.StartAsync();
        var models = JsonDocument.Parse(await server.Client.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal(["mlm", "sst"], models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray());
        var health = JsonDocument.Parse(await server.Client.GetStringAsync("/health")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());

        await server.PostOkAsync("/v1/embeddings", TestServer.Body("x"));
        using var bad = await server.PostAsync("/v1/embeddings", "{");
        using var response = await server.Client.GetAsync("/metrics");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        var samples = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(1, samples["ntr_requests_total{endpoint=\"/v1/embeddings\",status=\"200\"}"]);
        Assert.Equal(1, samples["ntr_requests_total{endpoint=\"/v1/embeddings\",status=\"400\"}"]);
        Assert.Equal(1, samples["ntr_model_loaded{model=\"mlm\"}"]);
        Assert.Equal(0, samples["ntr_model_loaded{model=\"sst\"}"]);
        Assert.Equal(1, samples["ntr_models_loaded"]);
        Assert.Equal(0, samples["ntr_queue_depth"]);
        Assert.Equal(0, samples["ntr_model_queue_depth{model=\"mlm\"}"]);
        Assert.Equal(0, samples["ntr_model_queue_depth{model=\"sst\"}"]);
        Assert.Equal(1, samples["ntr_batch_size_count"]);
        Assert.Equal(1, samples["ntr_batch_size_bucket{le=\"1\"}"]);
        Assert.True(samples["ntr_request_duration_seconds_count"] >= 3);
        Assert.True(samples["process_resident_memory_bytes"] > 1e6);
        Assert.True(samples["dotnet_gc_committed_bytes"] >= samples["dotnet_gc_heap_size_bytes"]);
        Assert.Contains("ntr_cache_hits_total", samples.Keys);
    }
}

/// <summary>A strict reader of Prometheus text format 0.0.4: every line is a # HELP / # TYPE comment or
/// 'name{labels} value'; every sample's family has a TYPE line first. Returns sample → value.</summary>
internal static class PrometheusText
{
    private static readonly System.Text.RegularExpressions.Regex Sample =
        new(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*=""(\\.|[^""\\])*"",?)*\})? (\S+)$");
    private static readonly System.Text.RegularExpressions.Regex Comment =
        new(@"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$");

    public static Dictionary<string, double> Parse(string text)
    {
        Assert.EndsWith("\n", text);
        var types = new HashSet<string>();
        var samples = new Dictionary<string, double>();
        foreach (var line in text[..^1].Split('\n'))
        {
            var c = Comment.Match(line);
            if (c.Success)
            {
                if (c.Groups[1].Value == "TYPE")
                {
                    Assert.Contains(c.Groups[3].Value, new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                    Assert.True(types.Add(c.Groups[2].Value), "TYPE given twice for " + c.Groups[2].Value);
                }
                continue;
            }
            var s = Sample.Match(line);
            Assert.True(s.Success, "not a Prometheus sample line: " + line);
            string name = s.Groups[1].Value;
            string family = System.Text.RegularExpressions.Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(types.Contains(name) || types.Contains(family), "sample before its TYPE: " + line);
            string value = s.Groups[5].Value;
            double v = value == "+Inf" ? double.PositiveInfinity : double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(samples.TryAdd(line[..line.LastIndexOf(' ')], v), "duplicate sample: " + line);
        }
        return samples;
    }
}
