using System.Net.Http.Headers;
using System.Text.Json;
using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;
using NativeTransformer.Serving;

namespace NativeTransformer.Tests.Serving;

/// <summary>--api-key (Bearer, 401, open health/ready/metrics, the key never echoed), /ready after warm-up, /openapi.json,
/// and the split metrics.</summary>
public class ServeAuthReadyTests
{
    private const string Key = "s3cret-key-7f1c";

    [Fact]
    public async Task RoutesNeedTheKeyExceptHealthReadyAndMetrics()
    {
        await using var server = await TestServer.StartAsync(o => o with { ApiKey = new ApiKey(Key) });
        foreach (var auth in new AuthenticationHeaderValue?[] { null, new("Bearer", "wrong"), new("Basic", Key), new("Bearer", Key + "x") })
            foreach (var (path, body) in new[] { ("/embed", "{\"inputs\":\"x\"}"), ("/v1/embeddings", TestServer.Body("x")) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body) };
                request.Headers.Authorization = auth;
                using var response = await server.Client.SendAsync(request);
                string text = await response.Content.ReadAsStringAsync();
                Assert.True(401 == (int)response.StatusCode, $"{path} {auth}: {(int)response.StatusCode} {text}");
                Assert.DoesNotContain(Key, text);
                Assert.DoesNotContain(Key, response.Headers.ToString());
            }
        using (var get = await server.Client.GetAsync("/info")) Assert.Equal(401, (int)get.StatusCode);
        foreach (var open in new[] { "/health", "/ready", "/metrics" })
            using (var r = await server.Client.GetAsync(open)) Assert.Equal(200, (int)r.StatusCode);

        server.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var json = await server.PostOkAsync("/embed", "{\"inputs\":\"x\"}");
        Assert.Equal(1, json.GetArrayLength());
        Assert.DoesNotContain(Key, new ServeOptions { ApiKey = new ApiKey(Key) }.ToString());   // a logged options record shows no key
    }

    [Fact]
    public void ApiKeyComesFromTheOptionOrTheEnvironment()
    {
        var (models, rest) = ServeCommand.ExtractModels(["--model", "a=" + TestServer.MlmDir, "--api-key", Key]);
        var o = ServeCommand.Options(ParsedArgs.Parse(ServeCommand.Spec, rest), models);
        Assert.True(o.ApiKey!.Matches(Key));
        Assert.False(o.ApiKey.Matches("other"));
        Assert.True(o.WarmUp);
        Assert.DoesNotContain(Key, o.ToString());
    }

    [Fact]
    public async Task ReadyAfterWarmUpAnd503WhenAModelCannotLoad()
    {
        await using (var server = await TestServer.StartAsync(o => o with { WarmUp = true }))
        {
            await server.Host.State.WarmUpTask!.WaitAsync(TimeSpan.FromSeconds(30));
            using var ready = await server.Client.GetAsync("/ready");
            Assert.Equal(200, (int)ready.StatusCode);
            Assert.Equal(2, JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("models_loaded").GetInt32());
        }
        string empty = Directory.CreateTempSubdirectory("ntr-ready-").FullName;
        try
        {
            await using var broken = await TestServer.StartAsync(o => o with { WarmUp = true, Models = new Dictionary<string, string> { ["bad"] = empty } });
            await broken.Host.State.WarmUpTask!.WaitAsync(TimeSpan.FromSeconds(30));
            using var notReady = await broken.Client.GetAsync("/ready");
            Assert.Equal(503, (int)notReady.StatusCode);
            Assert.Contains("warm-up failed", await notReady.Content.ReadAsStringAsync());
            using var health = await broken.Client.GetAsync("/health");
            Assert.Equal(200, (int)health.StatusCode);   // liveness is not readiness
        }
        finally { Directory.Delete(empty, true); }
    }

    [Fact]
    public async Task OpenApiCoversEveryRoute()
    {
        await using var server = await TestServer.StartAsync();
        var doc = JsonDocument.Parse(await server.Client.GetStringAsync("/openapi.json")).RootElement;
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString());
        var paths = doc.GetProperty("paths");
        string[] routes = ["POST /embed", "POST /embed_all", "POST /predict", "POST /rerank", "POST /similarity", "POST /tokenize", "POST /decode", "GET /info", "POST /v1/embeddings",
            "POST /v1/classify", "POST /v1/rerank", "GET /v1/models", "POST /v1/models/{name}/load", "POST /v1/models/{name}/unload",
            "GET /health", "GET /ready", "GET /metrics", "GET /openapi.json"];
        foreach (var route in routes)
        {
            var (method, path) = (route.Split(' ')[0].ToLowerInvariant(), route.Split(' ')[1]);
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), route);
        }
        // Every route the server maps is listed above (so a new route cannot miss the document).
        var mapped = server.Host.Routes;
        foreach (var e in mapped)
        {
            string method = e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods[0];
            if (e.RoutePattern.RawText != "/debug/gc") Assert.Contains($"{method} {e.RoutePattern.RawText}", routes);
        }
    }

    [Fact]
    public async Task MetricsSplitQueueInferenceTokenizationAndBatchTokens()
    {
        await using var server = await TestServer.StartAsync();
        await server.PostOkAsync("/embed", "{\"inputs\":[\"a gorgeous movie\",\"dull\"]}");
        using var model = TransformerModel.Load(TestServer.MlmDir, new LoadOptions { Threads = 1 });
        int tokens = model.Tokenizer.Encode("a gorgeous movie").Length + model.Tokenizer.Encode("dull").Length;
        Assert.Equal(tokens, await server.MetricAsync("ntr_batch_tokens_sum"));
        Assert.Equal(1, await server.MetricAsync("ntr_batch_tokens_count"));
        Assert.Equal(1, await server.MetricAsync("ntr_inference_duration_seconds_count"));
        Assert.Equal(1, await server.MetricAsync("ntr_queue_duration_seconds_count"));
        Assert.Equal(1, await server.MetricAsync("ntr_tokenization_duration_seconds_count"));
    }
}
