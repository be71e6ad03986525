using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Serving;

/// <summary>
/// Thousands of clients at once: 2,000 sockets connect, then all send one request. Every request gets exactly
/// one answer (200, or 429/503 with Retry-After when the queue is full), the server's counters agree with what
/// the clients saw, it is healthy afterwards and its memory is back within a bound. Runs alone (serial
/// collection) because it measures the process's managed heap.
/// </summary>
[Collection(SerialCollection.Name)]
public class ServeConnectionStormTests(ITestOutputHelper output)
{
    // 2,000 client sockets + 2,000 server sockets in one process: well under `ulimit -n` (20,000 here; .NET
    // raises the soft limit to the hard one at start), and under ServeOptions.MaxConnections (4,096 default).
    private const int Clients = 2000;

    [Fact]
    public async Task TwoThousandConcurrentConnectionsAreEachAnsweredOnce()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxQueue = 256, CacheEntries = 0 });
        await server.PostOkAsync("/v1/embeddings", TestServer.Body("warm up"));
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();

        var clients = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => RawHttp.ConnectAsync(server.Host.Address)));
        double connected = clock.Elapsed.TotalSeconds;
        var answers = await Task.WhenAll(clients.Select(async (c, i) =>
        {
            using (c)
            {
                await c.SendAsync(RawHttp.Post("/v1/embeddings", TestServer.Body($"storm request number {i}"), "Connection: close\r\n"));
                var response = await c.ReadResponseAsync(TimeSpan.FromSeconds(60));
                // Exactly once: after the one answer the server closes (Connection: close) and sends nothing more.
                bool closed = await c.ClosedWithinAsync(TimeSpan.FromSeconds(10));
                return (Response: response, Closed: closed, Extra: c.Discarded);
            }
        }));
        double answered = clock.Elapsed.TotalSeconds;

        int ok = 0, shed = 0;
        foreach (var (response, closed, extra) in answers)
        {
            Assert.NotNull(response);
            Assert.True(closed && extra == 0, "more than one answer on a connection");
            if (response.Status == 200)
            {
                ok++;
                var data = JsonDocument.Parse(response.Body).RootElement.GetProperty("data");
                Assert.Equal(128, data[0].GetProperty("embedding").GetArrayLength());
            }
            else
            {
                Assert.True(response.Status is 429 or 503, $"got {response.Status}: {response.Text}");
                Assert.Equal("1", response.Header("Retry-After"));
                shed++;
            }
        }
        Assert.Equal(Clients, ok + shed);
        Assert.True(ok > 0);

        // The server saw exactly these requests (+ the warm-up), answered once each.
        Assert.Equal(ok + 1, await server.MetricAsync("ntr_requests_total{endpoint=\"/v1/embeddings\",status=\"200\"}"));
        Assert.Equal(shed, await server.MetricAsync("ntr_requests_total{endpoint=\"/v1/embeddings\",status=\"429\"}"));
        Assert.Equal(ok + 1, await server.MetricAsync("ntr_batch_inputs_total"));
        await ServeChecks.AssertAtRest(server, connectionsLeft: 1);
        await ServeChecks.AssertNoServerErrors(server);

        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"{Clients} connections in {connected:F2} s, answered in {answered:F2} s: {ok} x 200, {shed} x 429; " +
            $"managed heap {heapBefore >> 20} -> {heapAfter >> 20} MB, RSS {Environment.WorkingSet >> 20} MB");
        Assert.True(heapAfter - heapBefore < 64L << 20, $"managed heap grew by {(heapAfter - heapBefore) >> 20} MB over the storm");
    }
}
