using System.Collections.Concurrent;
using System.Text.Json;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Serving;

/// <summary>
/// Fuzzes ntr serve's request handling with <see cref="HttpRequestFuzzer"/>: every answer is a 2xx or a 4xx
/// (a 503 only as load shedding), a 4xx carries a JSON error with a message, a 2xx is valid JSON, and the
/// server is healthy at the end. CI runs a fixed number of inputs (deterministic: fixed seeds); set
/// NT_FUZZ_SECONDS=N for a long run of N seconds (NT_FUZZ_SEED to vary the seeds).
/// </summary>
public class ServeFuzzTests(ITestOutputHelper output)
{
    private const int Workers = 4;
    private const int CiInputsPerWorker = 100;
    private const int CiRawInputsPerWorker = 16;

    [Fact]
    public async Task FuzzedRequestsGet2xxOr4xxAndTheServerStaysHealthy()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("NT_FUZZ_SECONDS"), out int s) ? s : 0;
        int baseSeed = int.TryParse(Environment.GetEnvironmentVariable("NT_FUZZ_SEED"), out int seed) ? seed : 6;
        await using var server = await TestServer.StartAsync(o => o with { MaxTextChars = 2000, MaxInputs = 16, MaxBodyBytes = 64 * 1024 });
        var statuses = new ConcurrentDictionary<(string Kind, int Status), int>();
        var stopAt = DateTime.UtcNow.AddSeconds(seconds);

        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var fuzzer = new HttpRequestFuzzer(baseSeed * 1000 + w);
            for (int i = 0; seconds > 0 ? DateTime.UtcNow < stopAt : i < CiInputsPerWorker; i++)
            {
                var request = fuzzer.Next();
                int status = await SendAndCheck(server, request, $"seed {baseSeed * 1000 + w} input {i}");
                statuses.AddOrUpdate((request.Kind, status), 1, (_, n) => n + 1);
            }
        })));

        int total = statuses.Values.Sum();
        output.WriteLine($"{total} fuzzed requests: " + string.Join(", ", statuses.OrderBy(p => p.Key.Kind).ThenBy(p => p.Key.Status).Select(p => $"{p.Key.Kind} {p.Key.Status}: {p.Value}")));
        Assert.Contains(statuses.Keys, k => k.Status == 200);   // the generator does reach the models
        Assert.Contains(statuses.Keys, k => k.Status == 400);
        await ServeChecks.AssertAtRest(server, connectionsLeft: Workers + 1);
        await ServeChecks.AssertNoServerErrors(server);
    }

    /// <summary>Whole requests mutated byte by byte, over raw sockets: whatever Kestrel or the endpoints make of
    /// them, the answer is never a 5xx (bar Kestrel's 505 for a version it does not speak), and the server is
    /// healthy at the end.</summary>
    [Fact]
    public async Task FuzzedRawRequestsNeverGet5xx()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("NT_FUZZ_SECONDS"), out int s) ? s : 0;
        int baseSeed = int.TryParse(Environment.GetEnvironmentVariable("NT_FUZZ_SEED"), out int seed) ? seed : 6;
        await using var server = await TestServer.StartAsync(ServeSlowClientTests.Tight);
        var outcomes = new ConcurrentDictionary<string, int>();
        var stopAt = DateTime.UtcNow.AddSeconds(seconds);
        // Filler after each request: a body cut short by a mutation is completed (and fails to parse) rather
        // than left waiting for the body-rate timeout. Bare CRLFs before a request line are ignored.
        byte[] filler = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("\r\n", 2048)));

        await Task.WhenAll(Enumerable.Range(0, Workers * 2).Select(w => Task.Run(async () =>
        {
            var fuzzer = new HttpRequestFuzzer(baseSeed * 1000 + 100 + w);
            for (int i = 0; seconds > 0 ? DateTime.UtcNow < stopAt : i < CiRawInputsPerWorker; i++)
            {
                byte[] request = fuzzer.NextRaw();
                using var c = await RawHttp.ConnectAsync(server.Host.Address);
                string outcome;
                try
                {
                    await c.SendAsync([.. request, .. filler]);
                    var response = await c.ReadResponseAsync(TimeSpan.FromSeconds(3));
                    outcome = response is null ? "closed" : response.Status.ToString();
                    Assert.False(response is { Status: >= 500 and not 503 and not 505 },
                        $"{response?.Status} for seed {baseSeed * 1000 + 100 + w} input {i}: {Convert.ToBase64String(request)}: {response?.Text}");
                }
                catch (OperationCanceledException) { outcome = "no answer in 3 s"; }
                catch (Exception e) when (e is InvalidDataException or System.Net.Sockets.SocketException) { outcome = "not HTTP/1 / reset"; }
                outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            }
        })));

        output.WriteLine($"{outcomes.Values.Sum()} fuzzed raw requests: " + string.Join(", ", outcomes.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value}")));
        Assert.Contains("400", outcomes.Keys);
        await ServeChecks.AssertAtRest(server, connectionsLeft: 1);
        await ServeChecks.AssertNoServerErrors(server);
    }

    private static async Task<int> SendAndCheck(TestServer server, FuzzRequest request, string where)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
        if (request.Method != "GET")
        {
            message.Content = new ByteArrayContent(request.Body);
            foreach (var (name, value) in request.Headers)
                if (name == "Content-Type") message.Content.Headers.TryAddWithoutValidation(name, value);
        }
        foreach (var (name, value) in request.Headers)
            if (name != "Content-Type") message.Headers.TryAddWithoutValidation(name, value);

        using var response = await server.Client.SendAsync(message);
        int status = (int)response.StatusCode;
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        string text = System.Text.Encoding.UTF8.GetString(body);
        string replay = $"{where} ({request.Kind}): {request.Method} {request.Path} body {Convert.ToBase64String(request.Body)}";
        Assert.True(status is >= 200 and < 300 or >= 400 and < 500 or 503, $"{status} for {replay}: {text}");
        if (request.Path == "/metrics") return status;
        JsonElement json;
        try { json = JsonDocument.Parse(body).RootElement; }
        catch (JsonException) { Assert.Fail($"{status} with a body that is not JSON for {replay}: {text}"); throw; }
        if (status >= 400)
            Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error").GetProperty("message").GetString()), $"no error message for {replay}");
        return status;
    }
}
