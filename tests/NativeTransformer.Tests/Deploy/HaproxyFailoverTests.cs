using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NativeTransformer.Serving;

namespace NativeTransformer.Tests.Deploy;

/// <summary>Three ntr serve replicas (in-process Kestrel servers, each its own loopback listener) behind haproxy with
/// health checks on /health, `retries 3`, `option redispatch` and `retry-on all-retryable-errors`: a concurrent
/// /v1/embeddings load loop runs while one replica is stopped abruptly (connections aborted, listener closed).
/// No request may fail, and after the kill the other two serve everything. This is the loopback stand-in for a
/// Kubernetes Service losing a pod (docs/kubernetes.md).</summary>
public class HaproxyFailoverTests
{
    private const int Workers = 4, RequestsBeforeKill = 60, RequestsAfterKill = 120;

    [ToolFact("haproxy")]
    public async Task KillingAReplicaMidRunFailsNoRequest()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(50));
        var replicas = new List<ServeHost>();
        Process? haproxy = null;
        using var dir = new Cli.TempDir();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var host = ServeHost.Create(new ServeOptions
                {
                    Models = new Dictionary<string, string> { ["m"] = TestPaths.Model("bert-tiny-sst2") },
                    Port = 0, CacheEntries = 0, LoadOptions = new LoadOptions { Threads = 1 }, ShutdownTimeout = TimeSpan.FromSeconds(5),
                });
                replicas.Add(host);
                await host.StartAsync(bound.Token);
            }
            int port = FreePort();
            string config = dir.Write("haproxy.cfg", Config(port, replicas.Select(r => r.Address.Port).ToArray()));
            haproxy = Process.Start(new ProcessStartInfo(ExternalTool.Find("haproxy")!, ["-db", "-f", config])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
            var haproxyLog = new StringBuilder();
            haproxy.ErrorDataReceived += (_, e) => { lock (haproxyLog) haproxyLog.AppendLine(e.Data); };
            haproxy.OutputDataReceived += (_, e) => { lock (haproxyLog) haproxyLog.AppendLine(e.Data); };
            haproxy.BeginErrorReadLine(); haproxy.BeginOutputReadLine();

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
            await WaitForAllUpAsync(client, haproxy, haproxyLog, bound.Token);

            // The load: Workers concurrent loops; each response names the replica that answered (X-Served-By).
            var servedBy = new System.Collections.Concurrent.ConcurrentQueue<(bool AfterKill, string Server)>();
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            int completed = 0, afterKill = 0;
            var killNow = new TaskCompletionSource();
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
            async Task Worker(int w)
            {
                for (int n = 0; !stop.IsCancellationRequested; n++)
                {
                    bool after = killed.Task.IsCompleted;
                    try
                    {
                        using var body = new StringContent($"{{\"input\":[\"worker {w} request {n}\",\"second text\"],\"model\":\"m\"}}", Encoding.UTF8, "application/json");
                        using var response = await client.PostAsync("/v1/embeddings", body, stop.Token);
                        string text = await response.Content.ReadAsStringAsync(stop.Token);
                        if (response.StatusCode != HttpStatusCode.OK || !text.Contains("\"embedding\"", StringComparison.Ordinal))
                            failures.Enqueue($"{(int)response.StatusCode}: {text}");
                        else
                            servedBy.Enqueue((after, response.Headers.TryGetValues("X-Served-By", out var s) ? s.First() : "?"));
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
                    catch (Exception e) { failures.Enqueue(e.GetType().Name + ": " + e.Message); }
                    if (Interlocked.Increment(ref completed) == RequestsBeforeKill) killNow.TrySetResult();
                    if (after && Interlocked.Increment(ref afterKill) >= RequestsAfterKill) stop.Cancel();
                }
            }
            var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(() => Worker(w))).ToArray();

            await killNow.Task.WaitAsync(bound.Token);
            // Abrupt stop of r1: a cancelled token makes Kestrel abort open connections instead of draining them.
            try { await replicas[1].StopAsync(new CancellationToken(canceled: true)); }
            catch (OperationCanceledException) { }
            killed.TrySetResult(); // requests started from here on cannot reach r1
            await Task.WhenAll(workers);

            Assert.False(bound.IsCancellationRequested, "the run did not finish within its time bound");
            Assert.True(failures.IsEmpty, $"{failures.Count} failed requests, first: {failures.FirstOrDefault()}\nhaproxy:\n{haproxyLog}");
            var before = servedBy.Where(s => !s.AfterKill).GroupBy(s => s.Server).ToDictionary(g => g.Key, g => g.Count());
            Assert.True(before.Keys.Order().SequenceEqual(["r0", "r1", "r2"]), "before the kill all three replicas served: " + Describe(before));
            // Requests that started before the kill and were retried elsewhere count as "before"; the ones started
            // after it once haproxy marked r1 down must all go to r0 and r2.
            var after = servedBy.Where(s => s.AfterKill).Select(s => s.Server).ToArray();
            Assert.True(after.Length >= RequestsAfterKill, $"only {after.Length} requests after the kill");
            Assert.All(after, s => Assert.True(s is "r0" or "r2", $"served by {s} after r1 was killed"));
            Assert.Contains("r0", after);
            Assert.Contains("r2", after);
        }
        finally
        {
            if (haproxy is { HasExited: false }) { haproxy.Kill(entireProcessTree: true); haproxy.WaitForExit(5000); }
            haproxy?.Dispose();
            foreach (var r in replicas) await r.DisposeAsync();
        }
    }

    private static string Describe(Dictionary<string, int> counts) => string.Join(", ", counts.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>haproxy's own view of the backends: up when it proxies /health answers from each of them.</summary>
    private static async Task WaitForAllUpAsync(HttpClient client, Process haproxy, StringBuilder log, CancellationToken ct)
    {
        var seen = new HashSet<string>();
        while (seen.Count < 3)
        {
            if (haproxy.HasExited) Assert.Fail($"haproxy exited with {haproxy.ExitCode}:\n{log}");
            ct.ThrowIfCancellationRequested();
            try
            {
                using var r = await client.GetAsync("/health", ct);
                if (r.IsSuccessStatusCode && r.Headers.TryGetValues("X-Served-By", out var s)) seen.Add(s.First());
            }
            catch (HttpRequestException) { await Task.Delay(50, ct); }
        }
    }

    /// <summary>roundrobin over the replicas; a health check every 200 ms (down after 2 failures); a request that
    /// meets a refused connection, an empty or a 5xx response is retried up to 3 times, redispatched to another server.
    /// `timeout check 3s`: without it the check's read timeout is `inter`, and on a loaded 2-core CI machine /health
    /// answers slower than 200 ms twice in a row, so haproxy marked all three live replicas down (every request 503).
    /// The killed replica still fails its checks at once: its listener is closed, the connection is refused.</summary>
    private static string Config(int port, int[] replicaPorts)
    {
        var sb = new StringBuilder();
        sb.Append($"""
            global
              maxconn 256
            defaults
              mode http
              timeout connect 1s
              timeout client 20s
              timeout server 20s
              retries 3
              option redispatch 1
              retry-on all-retryable-errors
              option http-buffer-request
            frontend fe
              bind 127.0.0.1:{port}
              default_backend be
            backend be
              balance roundrobin
              option httpchk GET /health
              http-response set-header X-Served-By %[srv_name]
              timeout check 3s
              default-server inter 200ms fall 2 rise 1

            """);
        for (int i = 0; i < replicaPorts.Length; i++) sb.Append($"  server r{i} 127.0.0.1:{replicaPorts[i]} check\n");
        return sb.ToString();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
