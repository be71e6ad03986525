using System.Net;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Serving;

/// <summary>ntr serve keeps nothing per request: the live managed heap after forced full GCs (POST /debug/gc) does not
/// grow with the request count. Serial: the GC heap is process-wide, other tests' models would be counted too.</summary>
[Collection(SerialCollection.Name)]
public class ServeMemoryTests(ITestOutputHelper output)
{
    // What a leak would keep per request is at least its texts and its 128-float embedding (~700 bytes with object
    // headers); 1,000 requests must not add more than 200 bytes each. Measured without a leak: a few KB either way.
    private const long MaxGrowthPer1000Requests = 200_000;

    [Fact]
    public async Task LiveHeapDoesNotGrowWithRequests()
    {
        await using var server = await TestServer.StartAsync(o => o with { DebugGcEndpoint = true, CacheEntries = 0 });
        int counter = 0;
        // Steps of 2,000 requests: the host's one-off heap movements are ~200 KB, a 200-byte leak is 400 KB a step.
        await SendAsync(server, 1000, () => Interlocked.Increment(ref counter));
        long after1000 = await LiveBytesAsync(server);
        await SendAsync(server, 2000, () => Interlocked.Increment(ref counter));
        long after2000 = await LiveBytesAsync(server);
        await SendAsync(server, 2000, () => Interlocked.Increment(ref counter));
        long after3000 = await LiveBytesAsync(server);
        output.WriteLine($"live heap after forced GC: {after1000:N0} bytes after 1,000 requests, {after2000:N0} after 3,000, {after3000:N0} after 5,000");
        // The heap is the test host's: a one-off (another test's late finalizer, a lazily built table) moves one step;
        // a per-request leak moves both.
        long growth = Math.Min(after2000 - after1000, after3000 - after2000) / 2;
        Assert.True(growth < MaxGrowthPer1000Requests,
            $"live heap after forced GC grew at least {growth:N0} bytes per 1,000 requests ({after1000:N0} -> {after2000:N0} -> {after3000:N0})");
    }

    [Fact]
    public async Task TheDebugGcEndpointIsOffByDefault()
    {
        await using var server = await TestServer.StartAsync(o => o with { DebugGcEndpoint = false });
        using var response = await server.PostAsync("/debug/gc", "");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static Task SendAsync(TestServer server, int count, Func<int> next) =>
        LiveHeapProbe.SendEmbeddingsAsync(server.Client, "mlm", count, next);

    private static async Task<long> LiveBytesAsync(TestServer server)
    {
        var (live, served) = await LiveHeapProbe.CollectAsync(server.Client);
        Assert.True(served > 0);
        return live;
    }
}
