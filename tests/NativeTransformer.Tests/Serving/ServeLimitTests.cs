using System.Net;
using System.Text.Json;

namespace NativeTransformer.Tests.Serving;

/// <summary>What ntr serve refuses and how: clear JSON 4xx errors, 429 with Retry-After when the queue is
/// full, 504 on the per-request timeout, and graceful shutdown that finishes the request in flight.</summary>
public class ServeLimitTests
{
    [Theory]
    [InlineData("{", 400, "not valid JSON")]
    [InlineData("", 400, "body is empty")]
    [InlineData("[1,2]", 400, "must be a JSON object")]
    [InlineData("{\"model\":\"mlm\"}", 400, "'input' is missing")]
    [InlineData("{\"input\":\"x\"}", 400, "'model' is missing")]
    [InlineData("{\"input\":42,\"model\":\"mlm\"}", 400, "'input' must be a string or an array of strings, got a number")]
    [InlineData("{\"input\":[\"a\",null],\"model\":\"mlm\"}", 400, "'input[1]' must be a string, got null")]
    [InlineData("{\"input\":[[101,102]],\"model\":\"mlm\"}", 400, "token id arrays are not supported")]
    [InlineData("{\"input\":[],\"model\":\"mlm\"}", 400, "empty array")]
    [InlineData("{\"input\":\"x\",\"model\":7}", 400, "'model' must be a string")]
    [InlineData("{\"input\":\"x\",\"model\":\"mlm\",\"encoding_format\":\"int8\"}", 400, "'encoding_format' must be")]
    [InlineData("{\"input\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"model\":\"mlm\"}", 400, "'input' has 5 items; the limit is 4")]
    [InlineData("{\"input\":\"0123456789abcdefghijk\",\"model\":\"mlm\"}", 400, "'input[0]' is 21 characters long; the limit is 20")]
    [InlineData("{\"input\":\"x\",\"model\":\"gpt-4\"}", 404, "model 'gpt-4' is not served here; served models: mlm, sst")]
    public async Task BadRequestsGetClearErrors(string body, int status, string message)
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxInputs = 4, MaxTextChars = 20 });
        await AssertError(await server.PostAsync("/v1/embeddings", body), status, message);
    }

    [Fact]
    public async Task WrongMethodsPathsAndHeadlessModelsAreRefused()
    {
        await using var server = await TestServer.StartAsync();
        await AssertError(await server.Client.GetAsync("/v1/embeddings"), 405, "GET is not allowed on /v1/embeddings");
        await AssertError(await server.PostAsync("/health", "{}"), 405, "POST is not allowed");
        await AssertError(await server.Client.GetAsync("/v2/nothing"), 404, "no endpoint GET /v2/nothing");
        await AssertError(await server.PostAsync("/v1/classify", TestServer.Body("x", "mlm")), 400, "model 'mlm' has no classification head");
    }

    [Fact]
    public async Task OversizeBodiesGet413()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxBodyBytes = 100 });
        string big = TestServer.Body(new string('a', 200));
        using (var declared = await server.PostAsync("/v1/embeddings", big))
        {
            Assert.True(declared.Headers.ConnectionClose);   // the unread body makes the connection unusable
            await AssertError(declared, 413, $"the request body is {System.Text.Encoding.UTF8.GetByteCount(big)} bytes, over the limit of 100 bytes");
        }

        // Without a Content-Length (chunked), the limit holds while reading.
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(big))) };
        chunked.Headers.TransferEncodingChunked = true;
        await AssertError(await server.Client.SendAsync(chunked), 413, "over the limit of 100 bytes");

        await server.PostOkAsync("/v1/embeddings", TestServer.Body("small"));   // and the limit is not a blanket refusal
    }

    [Fact]
    public async Task AFullQueueAnswers429WithRetryAfter()
    {
        var gate = new BatchGate();
        await using var server = await TestServer.StartAsync(o => o with { BeforeBatch = gate.Hook, MaxConcurrency = 1, MaxQueue = 1, CacheEntries = 0 });
        try
        {
            var running = server.PostAsync("/v1/embeddings", TestServer.Body("one"));   // held in its batch
            await gate.Entered.WaitAsync(TimeSpan.FromSeconds(10));
            var queued = server.PostAsync("/v1/embeddings", TestServer.Body("two"));    // fills the queue
            await TestServer.WaitUntilAsync(() => server.Host.State.Queue.Count == 1, "the second request to queue");

            using var refused = await server.PostAsync("/v1/embeddings", TestServer.Body("three"));
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            await AssertError(refused, 429, "1 requests are already waiting");
            Assert.Equal(1, await server.MetricAsync("ntr_queue_rejected_total"));
            Assert.Equal(1, await server.MetricAsync("ntr_queue_depth"));
            Assert.Equal(1, await server.MetricAsync("ntr_model_queue_depth{model=\"mlm\"}"));   // the waiting request is mlm's

            gate.Release();
            using var a = await running;
            using var b = await queued;
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
            Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        }
        finally { gate.Release(); }
    }

    [Fact]
    public async Task SlowRequestsTimeOutWith504()
    {
        var gate = new BatchGate();
        await using var server = await TestServer.StartAsync(o => o with { BeforeBatch = gate.Hook, TimeoutMs = 200 });
        try
        {
            await AssertError(await server.PostAsync("/v1/embeddings", TestServer.Body("held")), 504, "did not finish within 200 ms");
            Assert.Equal(1, await server.MetricAsync("ntr_request_timeouts_total"));
        }
        finally { gate.Release(); }
    }

    [Fact]
    public async Task ShutdownFinishesTheRequestInFlight()
    {
        var gate = new BatchGate();
        await using var server = await TestServer.StartAsync(o => o with { BeforeBatch = gate.Hook });
        var inFlight = server.PostAsync("/v1/embeddings", TestServer.Body("still answered"));
        await gate.Entered.WaitAsync(TimeSpan.FromSeconds(10));

        var stop = server.Host.StopAsync();
        await Task.Delay(Timeout.Infinite, server.Host.ShutdownStarted).ContinueWith(_ => { }).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(stop.IsCompleted);   // waiting for the request
        gate.Release();

        using var response = await inFlight.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(128, json.GetProperty("data")[0].GetProperty("embedding").GetArrayLength());
        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<HttpRequestException>(() => server.Client.GetAsync("/health"));   // no longer listening
    }

    private static async Task AssertError(HttpResponseMessage response, int status, string message)
    {
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            Assert.Contains(message, error.GetProperty("message").GetString());
            Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        }
    }
}
