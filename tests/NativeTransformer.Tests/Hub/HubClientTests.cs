using System.Text;
using NativeTransformer.Hub;

namespace NativeTransformer.Tests.Hub;

/// <summary>The hub client against a loopback hub serving bert-mini-sst2, each test with its own empty HF_HOME.</summary>
public sealed class HubClientTests : IDisposable
{
    private const string RepoId = "test-org/bert-mini-sst2";
    private static readonly string[] Texts = ["a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés", ""];
    private static readonly string[] NeededFiles =
        ["1_Pooling/config.json", "config.json", "model.safetensors", "modules.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"];

    private readonly LoopbackHub _hub = new();
    private readonly string _home = Directory.CreateTempSubdirectory("ntr-hub-tests-").FullName;
    private readonly LoopbackHub.Repo _repo;

    public HubClientTests()
    {
        // A sentence-transformers module (its JSON config is needed, its weights file is not), a pickle file that
        // must never be fetched, and REFERENCE_ACCURACY.json (in the folder, not a model file).
        var extra = new Dictionary<string, byte[]>
        {
            ["modules.json"] = Encoding.UTF8.GetBytes("""[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]"""),
            ["1_Pooling/config.json"] = Encoding.UTF8.GetBytes("""{"word_embedding_dimension":256,"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true,"pooling_mode_max_tokens":false}"""),
            ["1_Pooling/extra_weights.bin"] = [1, 2, 3],
        };
        _repo = _hub.Add(RepoId, TestPaths.Model("bert-mini-sst2"), extra, "pytorch_model.bin", "onnx/model.onnx");
    }

    private HubOptions Options(bool offline = false) =>
        new() { Endpoint = _hub.Endpoint, Home = _home, Offline = offline, Timeout = TimeSpan.FromSeconds(20) };

    private string Resolve(string id = RepoId, bool offline = false, string? token = null)
    {
        Assert.True(HubModelId.TryParse(id, out var parsed));
        return HubClient.Resolve(parsed, Options(offline) with { Token = token });
    }

    private string RepoDir => Path.Combine(_home, "hub", "models--test-org--bert-mini-sst2");
    private string Sha256OfWeights => LoopbackHub.Sha256(File.ReadAllBytes(TestPaths.Model("bert-mini-sst2/model.safetensors")));
    private IEnumerable<string> FileRequests => _hub.Requests.Where(r => r.Path.Contains("/resolve/") || r.Path.StartsWith("/cdn/")).Select(r => r.Path);

    [Fact]
    public void FirstResolveDownloadsExactlyTheNeededFilesAndClassifiesLikeTheLocalFolder()
    {
        string dir = Resolve(token: "hf_test_token");

        Assert.Equal(Path.Combine(RepoDir, "snapshots", _repo.Sha), dir);
        var inSnapshot = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal);
        Assert.Equal(NeededFiles, inSnapshot);
        var fetched = _hub.Requests.Where(r => r.Method == "GET" && r.Path.Contains("/resolve/")).Select(r => r.Path[(r.Path.LastIndexOf(_repo.Sha) + 41)..]).Order(StringComparer.Ordinal);
        Assert.Equal(NeededFiles, fetched);
        // The weights are redirected to the "CDN" (another host): fetched once, and the token stays with the hub.
        var cdn = Assert.Single(_hub.Requests, r => r.Method == "GET" && r.Path == "/cdn/" + Sha256OfWeights);
        Assert.Equal("localhost", cdn.Host);
        Assert.False(cdn.Authorized);
        Assert.All(_hub.Requests.Where(r => r.Host == "127.0.0.1"), r => Assert.True(r.Authorized, r.Path));
        Assert.DoesNotContain(_hub.Requests, r => r.Path.EndsWith(".bin") || r.Path.EndsWith(".onnx") || r.Path.EndsWith("REFERENCE_ACCURACY.json"));

        // Standard layout: snapshot entries are relative symlinks into blobs/ (named by etag), refs/main holds the commit.
        var link = new FileInfo(Path.Combine(dir, "model.safetensors"));
        Assert.NotNull(link.LinkTarget);
        Assert.Equal(Path.Combine(RepoDir, "blobs", Sha256OfWeights), Path.GetFullPath(link.LinkTarget!, dir));
        Assert.Equal(_repo.Sha, File.ReadAllText(Path.Combine(RepoDir, "refs", "main")));
        Assert.Empty(Directory.EnumerateFiles(RepoDir, "*.incomplete", SearchOption.AllDirectories));

        using var fromHub = TransformerModel.Load(dir);
        using var local = TransformerModel.Load(TestPaths.Model("bert-mini-sst2"));
        var a = fromHub.Classify(Texts);
        var b = local.Classify(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(b[i].Label, a[i].Label);
            Assert.Equal(b[i].Logits, a[i].Logits);
        }
    }

    [Fact]
    public void SecondResolveMakesOneMetadataRequestAndNoFileRequests()
    {
        string first = Resolve();
        int before = _hub.Requests.Count;
        string second = Resolve();
        Assert.Equal(first, second);
        var after = _hub.Requests.Skip(before).ToList();
        Assert.Single(after);
        Assert.StartsWith("/api/models/", after[0].Path);
    }

    [Fact]
    public void OfflineModeUsesTheCacheOnlyAndSaysSoWhenEmpty()
    {
        var e = Assert.Throws<HubException>(() => Resolve(offline: true));
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Contains(RepoId, e.Message);
        Assert.Empty(_hub.Requests);

        string online = Resolve();
        int before = _hub.Requests.Count;
        Assert.Equal(online, Resolve(offline: true));
        Assert.Equal(before, _hub.Requests.Count);

        // An unreachable hub falls back to the cached revision.
        Assert.True(HubModelId.TryParse(RepoId, out var id));
        Assert.Equal(online, HubClient.Resolve(id, Options() with { Endpoint = "http://127.0.0.1:1" }));
    }

    [Fact]
    public void AnInterruptedDownloadResumesWithARangeRequestAndVerifies()
    {
        _hub.DropOnce = "model.safetensors";
        string dir = Resolve();

        var weightGets = _hub.Requests.Where(r => r.Method == "GET" && r.Path.StartsWith("/cdn/")).ToList();
        Assert.Equal(2, weightGets.Count);
        Assert.Null(weightGets[0].Range);
        Assert.Matches(@"^bytes=[1-9][0-9]*-$", weightGets[1].Range);
        Assert.Equal(File.ReadAllBytes(TestPaths.Model("bert-mini-sst2/model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public async Task ADownloadWaitsWhileAnotherProcessHoldsTheBlobLockThenUsesItsResult()
    {
        // Stand in for another process fetching the weights: hold huggingface_hub's lock file for that blob.
        string lockPath = Path.Combine(_home, "hub", ".locks", "models--test-org--bert-mini-sst2", Sha256OfWeights + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        var held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var resolve = Task.Run(() => Resolve());
        await Task.Delay(700);
        Assert.False(resolve.IsCompleted);
        Assert.DoesNotContain(_hub.Requests, r => r.Method == "GET" && r.Path.StartsWith("/cdn/"));

        // The "other process" finishes the blob and lets go: the waiter finds it and downloads nothing.
        string blobs = Path.Combine(RepoDir, "blobs");
        File.Copy(TestPaths.Model("bert-mini-sst2/model.safetensors"), Path.Combine(blobs, Sha256OfWeights));
        held.Dispose();
        string dir = await resolve.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(_hub.Requests, r => r.Method == "GET" && r.Path.StartsWith("/cdn/"));
        Assert.Equal(File.ReadAllBytes(TestPaths.Model("bert-mini-sst2/model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public void AStuckLockIsAClearErrorAfterTheLockTimeout()
    {
        string lockPath = Path.Combine(_home, "hub", ".locks", "models--test-org--bert-mini-sst2", Sha256OfWeights + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        using var held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        Assert.True(HubModelId.TryParse(RepoId, out var id));
        var e = Assert.Throws<HubException>(() => HubClient.Resolve(id, Options() with { LockTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Contains(lockPath, e.Message);
    }

    [Fact]
    public void ACorruptedBodyIsAHashMismatchAndLeavesNoBlobOrSnapshot()
    {
        _hub.Corrupt = "model.safetensors";
        var e = Assert.Throws<HubException>(() => Resolve());
        Assert.Contains("sha256 mismatch", e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.False(Directory.Exists(Path.Combine(RepoDir, "snapshots")));
        Assert.False(File.Exists(Path.Combine(RepoDir, "refs", "main")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(RepoDir, "blobs"), Sha256OfWeights + "*"));
    }

    [Fact]
    public void ACorruptedSmallFileIsAGitBlobHashMismatch()
    {
        _hub.Corrupt = "config.json";   // same size, one byte changed: only the git blob id can tell
        var e = Assert.Throws<HubException>(() => Resolve());
        Assert.Contains("git blob sha1 mismatch", e.Message);
        Assert.Contains("config.json", e.Message);
        Assert.False(Directory.Exists(Path.Combine(RepoDir, "snapshots")));
    }

    [Fact]
    public void UnknownRepositoryRevisionAndUnreachableHubAreClearErrors()
    {
        var e = Assert.Throws<HubException>(() => Resolve("test-org/no-such-model"));
        Assert.Contains("test-org/no-such-model: repository not found on " + _hub.Endpoint, e.Message);
        Assert.Contains("HF_TOKEN", e.Message);

        e = Assert.Throws<HubException>(() => Resolve(RepoId + "@v9"));
        Assert.Contains("revision 'v9' not found", e.Message);

        Assert.True(HubModelId.TryParse(RepoId, out var id));
        var closed = Options() with { Endpoint = "http://127.0.0.1:1" };
        e = Assert.Throws<HubException>(() => HubClient.Resolve(id, closed));
        Assert.Contains("network error", e.Message);
        Assert.False(Directory.Exists(Path.Combine(RepoDir, "snapshots")));
    }

    [Fact]
    public void AShardedRepositoryFetchesTheIndexAndExactlyTheShardsItNames()
    {
        var files = new Dictionary<string, byte[]>
        {
            ["config.json"] = File.ReadAllBytes(TestPaths.Model("bert-tiny-sst2/config.json")),
            ["vocab.txt"] = File.ReadAllBytes(TestPaths.Model("bert-tiny-sst2/vocab.txt")),
            ["model.safetensors.index.json"] = Encoding.UTF8.GetBytes(
                """{"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}}"""),
            ["model-00001-of-00002.safetensors"] = [1, 2, 3, 4],
            ["model-00002-of-00002.safetensors"] = [5, 6, 7],
            ["old-model-00001-of-00001.safetensors"] = [9],
        };
        string empty = Directory.CreateTempSubdirectory("ntr-hub-empty-").FullName;
        try
        {
            _hub.Add("test-org/sharded", empty, files, "pytorch_model.bin");
            string dir = Resolve("test-org/sharded@main");
            var got = Directory.EnumerateFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            Assert.Equal(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "vocab.txt"], got);
            Assert.Equal(new byte[] { 5, 6, 7 }, File.ReadAllBytes(Path.Combine(dir, "model-00002-of-00002.safetensors")));
            Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("old-model") || r.Path.EndsWith(".bin"));
        }
        finally { Directory.Delete(empty); }
    }

    [Fact]
    public void ARepositoryWithOnlyPickleWeightsIsRefusedBeforeAnyDownload()
    {
        string empty = Directory.CreateTempSubdirectory("ntr-hub-empty-").FullName;
        try
        {
            _hub.Add("test-org/pickle", empty, new() { ["config.json"] = "{}"u8.ToArray() }, "pytorch_model.bin");
            var e = Assert.Throws<HubException>(() => Resolve("test-org/pickle"));
            Assert.Contains("no model.safetensors", e.Message);
            Assert.Contains("pytorch_model.bin", e.Message);
            Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("/resolve/"));
        }
        finally { Directory.Delete(empty); }
    }

    public void Dispose()
    {
        _hub.Dispose();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}
