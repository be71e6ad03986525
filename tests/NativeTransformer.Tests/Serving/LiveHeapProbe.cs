using System.Net;
using System.Text;
using System.Text.Json;

namespace NativeTransformer.Tests.Serving;

/// <summary>Load and measurement for the live-heap tests of `ntr serve` (in-process and AOT): embeddings requests
/// with distinct texts, and POST /debug/gc (the server must run with the debug GC endpoint).</summary>
internal static class LiveHeapProbe
{
    /// <summary><paramref name="count"/> embeddings requests from 8 concurrent clients, each text distinct (like
    /// bench/load/embed.lua), every one answered 200.</summary>
    public static async Task SendEmbeddingsAsync(HttpClient http, string model, int count, Func<int> next)
    {
        int left = count;
        var clients = Enumerable.Range(0, 8).Select(async _ =>
        {
            while (Interlocked.Decrement(ref left) >= 0)
            {
                string body = "{\"input\":" + JsonSerializer.Serialize($"a gorgeous, witty, seductive movie ({next()})") + ",\"model\":\"" + model + "\"}";
                using var response = await http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await response.Content.ReadAsByteArrayAsync();
            }
        });
        await Task.WhenAll(clients);
    }

    /// <summary>The live managed heap after the server's forced full compacting GCs, and the requests it has served.</summary>
    public static async Task<(long LiveBytes, long RequestsServed)> CollectAsync(HttpClient http)
    {
        using var response = await http.PostAsync("/debug/gc", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.GetProperty("live_bytes").GetInt64(), json.RootElement.GetProperty("requests_served").GetInt64());
    }
}
