using NativeTransformer.Serving;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Serving;

/// <summary>
/// Slow clients on loopback (slowloris, slow uploads, clients that never read their answer): the server cuts
/// them by its header timeout and minimum data rates while answering everyone else without delay, and its
/// gauges (queue depth, batches in flight, open connections) return to rest.
/// </summary>
public class ServeSlowClientTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Tight limits so a test sees them act within seconds (Kestrel checks them once a second).</summary>
    internal static ServeOptions Tight(ServeOptions o) => o with
    {
        RequestHeadersTimeout = TimeSpan.FromSeconds(1),
        KeepAliveTimeout = TimeSpan.FromSeconds(2),
        MinDataRateBytesPerSecond = 240,
        MinDataRateGrace = TimeSpan.FromSeconds(1.5),
    };

    [Fact]
    public async Task SlowlorisAndSlowUploadsAreCutWhileOthersAreServed()
    {
        await using var server = await TestServer.StartAsync(Tight);
        await server.PostOkAsync("/v1/embeddings", TestServer.Body("warm up"));
        var start = DateTime.UtcNow;

        // 20 slowloris clients trickle header bytes; 5 upload a body at ~10 bytes/s (limit 240 after 1.5 s).
        var slow = new List<(RawHttp Client, Task Trickle)>();
        using var stopTrickling = new CancellationTokenSource();
        for (int i = 0; i < 25; i++)
        {
            var c = await RawHttp.ConnectAsync(server.Host.Address);
            string head = i < 20
                ? "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Repeat("X-Pad: aaaaaaaa\r\n", 50))
                : "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"input\":\"" + new string('a', 99_000);
            if (i >= 20) await c.SendAsync(head[..head.IndexOf("\r\n\r\n", StringComparison.Ordinal)] + "\r\n\r\n");
            slow.Add((c, Trickle(c, i < 20 ? head : head[(head.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..], stopTrickling.Token)));
        }

        // Everyone else is served meanwhile, without waiting on the slow ones.
        for (int i = 0; i < 5; i++)
        {
            var t0 = DateTime.UtcNow;
            await server.PostOkAsync("/v1/embeddings", TestServer.Body($"prompt {i}"));
            Assert.True(DateTime.UtcNow - t0 < TimeSpan.FromSeconds(2), $"a normal request took {(DateTime.UtcNow - t0).TotalMilliseconds} ms");
            await Task.Delay(100);
        }

        // Every slow client is cut within a few seconds (408 or a bare close), none waits its 100 KB out.
        foreach (var (c, _) in slow) Assert.True(await c.ClosedWithinAsync(TimeSpan.FromSeconds(8)), "a slow client was not cut off");
        output.WriteLine($"25 slow clients cut within {(DateTime.UtcNow - start).TotalSeconds:F1} s");
        await stopTrickling.CancelAsync();
        foreach (var (c, t) in slow) { await t; c.Dispose(); }
        await ServeChecks.AssertAtRest(server, connectionsLeft: 1);
        await ServeChecks.AssertNoServerErrors(server);
    }

    [Fact]
    public async Task AClientThatNeverReadsItsAnswerIsCut()
    {
        await using var server = await TestServer.StartAsync(Tight);
        await server.PostOkAsync("/v1/embeddings", TestServer.Body("warm up"));
        long before = server.Host.State.Metrics.ConnectionsOpen;

        // 20 pipelined requests for 256 embeddings each (~360 KB of JSON apiece): far more than the socket
        // buffers hold. The client never reads, so the server's writes stall and the rate limit cuts it.
        using var reader = await RawHttp.ConnectAsync(server.Host.Address, receiveBuffer: 4096);
        string body = TestServer.Body(Enumerable.Repeat("x", 256).ToArray());
        await reader.SendAsync(string.Concat(Enumerable.Repeat(RawHttp.Post("/v1/embeddings", body), 20)));
        await TestServer.WaitUntilAsync(() => server.Host.State.Metrics.ConnectionsOpen == before + 1, "the reader's connection to open");

        for (int i = 0; i < 3; i++) await server.PostOkAsync("/v1/embeddings", TestServer.Body($"meanwhile {i}"));
        await TestServer.WaitUntilAsync(() => server.Host.State.Metrics.ConnectionsOpen == before, "the server to cut the client that never reads", 10_000);
        await ServeChecks.AssertAtRest(server, connectionsLeft: (int)before);
        await ServeChecks.AssertNoServerErrors(server);
    }

    /// <summary>Sends <paramref name="text"/> a few bytes at a time (~10 bytes/s) until cancelled or cut off.</summary>
    private static async Task Trickle(RawHttp c, string text, CancellationToken ct)
    {
        try
        {
            for (int i = 0; i < text.Length && !ct.IsCancellationRequested; i++)
            {
                await c.SendAsync(text[i..(i + 1)], ct);
                await Task.Delay(100, ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException) { }
    }
}

/// <summary>
/// Clients that vanish at every stage of a request (mid-headers, mid-body, queued, inside a running batch,
/// mid-response; with a FIN or a reset): nothing crashes, abandoned requests leave the queue at once and are
/// never computed, they are counted as 499, and the gauges return to rest.
/// </summary>
public class ServeDisconnectTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ClientsThatVanishMidRequestLeaveNoDeadWork()
    {
        var gate = new BatchGate();
        await using var server = await TestServer.StartAsync(o => o with { BeforeBatch = gate.Hook, CacheEntries = 0 });
        try
        {
            string Request(string text) => RawHttp.Post("/v1/embeddings", TestServer.Body(text));

            // A request held inside a running batch, then one queued behind it and one more: all three clients go.
            var inBatch = await RawHttp.ConnectAsync(server.Host.Address);
            await inBatch.SendAsync(Request("in the batch"));
            await gate.Entered.WaitAsync(Wait);
            var queued = await RawHttp.ConnectAsync(server.Host.Address);
            await queued.SendAsync(Request("queued, reset"));
            var queuedFin = await RawHttp.ConnectAsync(server.Host.Address);
            await queuedFin.SendAsync(Request("queued, closed"));
            await TestServer.WaitUntilAsync(() => server.Host.State.Queue.Count == 2, "two requests to queue");

            queued.Reset();
            queuedFin.Socket.Close();
            inBatch.Reset();
            // Dropped from the queue at once: the batch is still held, so nobody else could have drained it.
            await TestServer.WaitUntilAsync(() => server.Host.State.Queue.Count == 0, "the abandoned requests to leave the queue");
            gate.Release();
            await TestServer.WaitUntilAsync(() => Volatile.Read(ref server.Host.State.InFlightBatches) == 0, "the held batch to end");
            Assert.Equal(0, await server.MetricAsync("ntr_batch_inputs_total"));   // nothing computed for the departed
            await ServeChecks.WaitForMetricAsync(server, "ntr_requests_total{endpoint=\"/v1/embeddings\",status=\"499\"}", 3);   // counted as client-closed

            // Mid-headers and mid-body, with a FIN and with a reset.
            foreach (bool reset in new[] { false, true })
            {
                using var headers = await RawHttp.ConnectAsync(server.Host.Address);
                await headers.SendAsync(Request("cut in the headers")[..30]);
                using var body = await RawHttp.ConnectAsync(server.Host.Address);
                await body.SendAsync(Request("cut in the body")[..^5]);
                await Task.Delay(50);
                if (reset) { headers.Reset(); body.Reset(); } else { headers.Socket.Close(); body.Socket.Close(); }
            }

            // Mid-response: a client that reads a little of a large answer and resets.
            using (var partial = await RawHttp.ConnectAsync(server.Host.Address, receiveBuffer: 4096))
            {
                await partial.SendAsync(RawHttp.Post("/v1/embeddings", TestServer.Body(Enumerable.Range(0, 256).Select(i => $"t{i}").ToArray())));
                await partial.Socket.ReceiveAsync(new byte[100], System.Net.Sockets.SocketFlags.None);
                partial.Reset();
            }

            var json = await server.PostOkAsync("/v1/embeddings", TestServer.Body("still fine"));
            Assert.Equal(128, json.GetProperty("data")[0].GetProperty("embedding").GetArrayLength());
            await ServeChecks.AssertAtRest(server, connectionsLeft: 1);
            await ServeChecks.AssertNoServerErrors(server);
        }
        finally { gate.Release(); }
    }
}

/// <summary>Checks shared by the server fault tests.</summary>
internal static class ServeChecks
{
    /// <summary>Queue empty, no batch running, only <paramref name="connectionsLeft"/> connections open (the
    /// test's own HttpClient), and /health answers.</summary>
    internal static async Task AssertAtRest(TestServer server, int connectionsLeft)
    {
        var state = server.Host.State;
        await TestServer.WaitUntilAsync(() => state.Queue.Count == 0 && Volatile.Read(ref state.InFlightBatches) == 0, "queue and batches to drain");
        await TestServer.WaitUntilAsync(() => state.Metrics.ConnectionsOpen <= connectionsLeft,
            $"open connections to fall to {connectionsLeft} (now {state.Metrics.ConnectionsOpen})", 10_000);
        var health = JsonDocument.Parse(await server.Client.GetStringAsync("/health")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    internal static async Task WaitForMetricAsync(TestServer server, string sample, double expected)
    {
        var deadline = Environment.TickCount64 + 5000;
        double value;
        while ((value = await server.MetricAsync(sample)) != expected)
        {
            if (Environment.TickCount64 > deadline) Assert.Fail($"{sample} is {value}, expected {expected}");
            await Task.Delay(20);
        }
    }

    /// <summary>No request so far was answered with a 5xx, except 503 from load shedding.</summary>
    internal static async Task AssertNoServerErrors(TestServer server)
    {
        string metrics = await server.Client.GetStringAsync("/metrics");
        var errors = metrics.Split('\n').Where(l => l.StartsWith("ntr_requests_total{", StringComparison.Ordinal)
            && l.Contains("status=\"5", StringComparison.Ordinal) && !l.Contains("status=\"503\"", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, "server errors: " + string.Join("; ", errors));
    }
}
