using System.Text;
using System.Text.Json;
using NativeTransformer.Serving;

namespace NativeTransformer.Tests.Serving;

/// <summary>A real Kestrel server on 127.0.0.1 with a free port, serving bert-tiny-mlm as "mlm" and
/// bert-tiny-sst2 as "sst", and an HttpClient pointed at it. Dispose stops both.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    public static readonly string MlmDir = TestPaths.Model("bert-tiny-mlm");
    public static readonly string SstDir = TestPaths.Model("bert-tiny-sst2");

    public ServeHost Host { get; }
    public HttpClient Client { get; }

    private TestServer(ServeHost host)
    {
        Host = host;
        Client = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(20) };
    }

    public static async Task<TestServer> StartAsync(Func<ServeOptions, ServeOptions>? configure = null)
    {
        var options = new ServeOptions
        {
            Models = new Dictionary<string, string> { ["mlm"] = MlmDir, ["sst"] = SstDir },
            Port = 0,
            LoadOptions = new LoadOptions { Threads = 1 },
            ShutdownTimeout = TimeSpan.FromSeconds(10),
        };
        var host = ServeHost.Create(configure?.Invoke(options) ?? options);
        await host.StartAsync();
        return new TestServer(host);
    }

    public Task<HttpResponseMessage> PostAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public static string Body(object input, string model = "mlm", string? extra = null) =>
        "{\"input\":" + JsonSerializer.Serialize(input) + ",\"model\":\"" + model + "\"" + (extra is null ? "" : "," + extra) + "}";

    public async Task<JsonElement> PostOkAsync(string path, string json)
    {
        using var response = await PostAsync(path, json);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A metric's value from /metrics (a sample line "name value", or with labels as written).</summary>
    public async Task<double> MetricAsync(string sample)
    {
        string text = await Client.GetStringAsync("/metrics");
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(sample + " ", StringComparison.Ordinal))
                return double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();

    /// <summary>Polls <paramref name="condition"/> until true, failing after a bounded time (for states with no event to await).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline) Assert.Fail("timed out waiting for " + what);
            await Task.Delay(5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>A test hook that holds every batch until <see cref="Release"/>; <see cref="Entered"/> completes when the first batch arrives.</summary>
internal sealed class BatchGate
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public List<int> RequestsPerBatch { get; } = [];

    public Task Entered => _entered.Task;

    public Task Hook(BatchInfo info)
    {
        lock (RequestsPerBatch) RequestsPerBatch.Add(info.Requests);
        _entered.TrySetResult();
        return _release.Task;
    }

    public void Release() => _release.TrySetResult();
}

