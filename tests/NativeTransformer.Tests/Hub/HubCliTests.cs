using NativeTransformer.Cli;
using NativeTransformer.Cli.Commands;
using NativeTransformer.Hub;
using NativeTransformer.Tests.Cli;

namespace NativeTransformer.Tests.Hub;

/// <summary><c>ntr classify --model owner/name</c> through a loopback hub (options injected, the environment untouched).</summary>
public sealed class HubCliTests : IDisposable
{
    private readonly LoopbackHub _hub = new();
    private readonly string _home = Directory.CreateTempSubdirectory("ntr-hub-cli-").FullName;

    public HubCliTests() => _hub.Add("test-org/bert-tiny-sst2", TestPaths.Model("bert-tiny-sst2"));

    private CliResult Run(bool offline, params string[] args)
    {
        HubModels.OptionsOverride.Value = new HubOptions { Endpoint = _hub.Endpoint, Home = _home, Offline = offline };
        try { return CliRunner.RunWithStdin("a gorgeous, witty movie\nboring and lifeless\n", args); }
        finally { HubModels.OptionsOverride.Value = null; }
    }

    [Fact]
    public void ClassifyWithAHubIdMatchesTheLocalFolderAndWorksOfflineAfterwards()
    {
        Run(offline: true, "classify", "--model", "test-org/bert-tiny-sst2")
            .AssertOneLineError(1, "HF_HUB_OFFLINE");

        var local = CliRunner.RunWithStdin("a gorgeous, witty movie\nboring and lifeless\n", "classify", "--model", TestPaths.Model("bert-tiny-sst2"));
        var hub = Run(offline: false, "classify", "--model", "test-org/bert-tiny-sst2");
        Assert.Equal(0, hub.ExitCode);
        Assert.Equal(local.Stdout, hub.Stdout);
        Assert.Equal(2, hub.StdoutLines.Length);
        Assert.Equal("", hub.Stderr); // no progress bar when stderr is not a terminal

        int requests = _hub.Requests.Count;
        var offline = Run(offline: true, "classify", "--model", "test-org/bert-tiny-sst2@main");
        Assert.Equal(local.Stdout, offline.Stdout);
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [Fact]
    public void AProgressBarIsDrawnOnATerminal()
    {
        HubModels.OptionsOverride.Value = new HubOptions { Endpoint = _hub.Endpoint, Home = _home };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        try { Assert.Equal(0, CliApp.Run(["classify", "--model", "test-org/bert-tiny-sst2"], new StringReader("great\n"), stdout, stderr, stderrIsTerminal: true)); }
        finally { HubModels.OptionsOverride.Value = null; }
        string err = stderr.ToString();
        Assert.Contains("\rdownloading model.safetensors [##############################] 17.5/17.5 MB\n", err);
        Assert.Contains("downloading config.json [", err);
    }

    [Fact]
    public void AnUnknownRepositoryIsAOneLineError()
    {
        Run(offline: false, "classify", "--model", "test-org/missing")
            .AssertOneLineError(1, "test-org/missing: repository not found");
        // A path-like value that is not a folder stays a folder error, never a hub lookup.
        Run(offline: false, "classify", "--model", "./test-org/missing").AssertOneLineError(1, "model folder not found");
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("/resolve/"));
    }

    public void Dispose()
    {
        _hub.Dispose();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}
