using System.Diagnostics;
using System.Text;
using NativeTransformer.Tests.Serving;

namespace NativeTransformer.Tests.Cli;

/// <summary>
/// `ntr serve` as the Native AOT binary (its GC settings and trimmed libraries, not the JIT process the in-process
/// serving tests run in): it answers, and its live managed heap does not grow with the request count. On .NET 9 the
/// single-reader channel leaked ~100 bytes per request in the batcher (a superseded WaitToReadAsync stayed registered
/// on the server's stop token) and only this test could see it; the batcher no longer passes a token there.
/// </summary>
public partial class AotSmokeTests
{
    // Measured without the leak: ~10 KB either way per step after warm-up; with it, ~400 KB per 4,000 requests.
    private const long MaxServeGrowthPerRequest = 40;

    [AotFact]
    public async Task ServeLiveHeapDoesNotGrowWithRequests()
    {
        AssertPublished();
        await using var serve = await AotServe.StartAsync(aot, ["--model", "m=" + TestPaths.Model("bert-tiny-sst2"), "--cache", "0"]);
        using var http = new HttpClient { BaseAddress = new Uri(serve.Address), Timeout = TimeSpan.FromSeconds(30) };
        int counter = 0;
        await LiveHeapProbe.SendEmbeddingsAsync(http, "m", 2000, () => Interlocked.Increment(ref counter));   // warm-up: pools, thread pool, tables
        long warm = (await LiveHeapProbe.CollectAsync(http)).LiveBytes;
        await LiveHeapProbe.SendEmbeddingsAsync(http, "m", 4000, () => Interlocked.Increment(ref counter));
        long step1 = (await LiveHeapProbe.CollectAsync(http)).LiveBytes;
        await LiveHeapProbe.SendEmbeddingsAsync(http, "m", 4000, () => Interlocked.Increment(ref counter));
        long step2 = (await LiveHeapProbe.CollectAsync(http)).LiveBytes;
        // A one-off (a lazily built table, a pool growing once) moves one step; a per-request leak moves both.
        long perRequest = Math.Min(step1 - warm, step2 - step1) / 4000;
        output.WriteLine($"AOT ntr serve live heap after forced GC: {warm:N0} -> {step1:N0} -> {step2:N0} bytes over 2 x 4,000 requests ({perRequest} bytes per request)");
        Assert.True(perRequest < MaxServeGrowthPerRequest,
            $"AOT ntr serve: live heap after forced GC grew {perRequest} bytes per request ({warm:N0} -> {step1:N0} -> {step2:N0} bytes over 2 x 4,000 requests)");
        // SIGTERM is a graceful stop in the AOT binary too: exit status 0.
        Assert.Equal(0, await serve.StopAsync());
    }
}

/// <summary>`ntr serve --port 0` started from the AOT binary (with the debug GC endpoint), stopped with SIGTERM.</summary>
internal sealed class AotServe : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    public string Address { get; private set; } = "";

    private AotServe(Process process) => _process = process;

    public static async Task<AotServe> StartAsync(AotBinaryFixture aot, string[] args)
    {
        var psi = new ProcessStartInfo(aot.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in (string[])["serve", "--host", "127.0.0.1", "--port", "0", .. args]) psi.ArgumentList.Add(a);
        psi.Environment["XDG_CACHE_HOME"] = aot.Cache;
        psi.Environment["NTR_DEBUG_GC_ENDPOINT"] = "1";
        var serve = new AotServe(Process.Start(psi)!);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        serve._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { listening.TrySetException(new InvalidOperationException("ntr serve exited: " + serve._stderr)); return; }
            lock (serve._stderr) serve._stderr.AppendLine(e.Data);
            // "ntr serve: listening on http://127.0.0.1:PORT (models: ...)"
            int at = e.Data.IndexOf("listening on ", StringComparison.Ordinal);
            if (at >= 0) listening.TrySetResult(e.Data[(at + "listening on ".Length)..].Split(' ')[0]);
        };
        serve._process.OutputDataReceived += (_, _) => { };
        serve._process.BeginErrorReadLine();
        serve._process.BeginOutputReadLine();
        serve.Address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return serve;
    }

    /// <summary>SIGTERM, then the exit status (the process is killed after 20 s without one).</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await _process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                throw new TimeoutException("ntr serve did not exit within 20 s of SIGTERM: " + _stderr);
            }
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try { if (!_process.HasExited) await StopAsync(); }
        catch (TimeoutException) { }
        _process.Dispose();
    }
}
