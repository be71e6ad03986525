using NativeTransformer.Kernels;
using NativeTransformer.Tests.Models;
using NativeTransformer.Weights.PackedCache;

namespace NativeTransformer.Tests.Weights;

/// <summary>The packed-weights cache (LoadOptions.PackedWeightsCache): a hit maps the panels instead of repacking and gives
/// bitwise the same results; anything wrong with the cache file only means a rebuild.</summary>
public class PackedWeightsCacheTests
{
    private static readonly string[] Texts = ["a gorgeous, witty movie", "bleak and desperate, a mess from start to finish"];

    /// <summary>The packed operators of bert-tiny-sst2: 2 layers × (qkv, attention output, intermediate, output).</summary>
    private const int Operators = 8;

    private static (float[][] Embeddings, float[][] Logits, PackedWeightsCache? Cache) Run(string model, string? cache, SparseKernels sparse = SparseKernels.Auto)
    {
        using var m = TransformerModel.Load(model, new LoadOptions { Threads = 1, PackedWeightsCache = cache, SparseKernels = sparse });
        var result = (m.Embed(Texts), m.Classify(Texts).Select(c => c.Logits).ToArray(), m.PackCache);
        return result;
    }

    private static void AssertBitwiseEqual(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i].Select(BitConverter.SingleToInt32Bits), actual[i].Select(BitConverter.SingleToInt32Bits));
    }

    private static string CacheFile(string dir) => Assert.Single(Directory.GetFiles(dir, "*" + PackedWeightsCache.Extension));

    [Fact]
    public void FirstLoadWritesTheCacheAndLaterLoadsMapItWithBitwiseIdenticalResults()
    {
        using var model = TempModelFolder.CopyOf("bert-tiny-sst2");
        using var cache = new TempDir();
        var plain = Run(model.Path, null);

        var first = Run(model.Path, cache.Path);
        Assert.False(first.Cache!.Loaded);
        Assert.Equal(Operators, first.Cache.Misses);
        CacheFile(cache.Path);

        var hit = Run(model.Path, cache.Path);
        Assert.True(hit.Cache!.Loaded);
        Assert.Equal((Operators, 0), (hit.Cache.Hits, hit.Cache.Misses));

        AssertBitwiseEqual(plain.Embeddings, first.Embeddings);
        AssertBitwiseEqual(plain.Logits, first.Logits);
        AssertBitwiseEqual(plain.Embeddings, hit.Embeddings);
        AssertBitwiseEqual(plain.Logits, hit.Logits);
    }

    [Fact]
    public void AHitOfACleanlyScannedModelSkipsTheNonFiniteScan()
    {
        using var model = TempModelFolder.CopyOf("bert-tiny-sst2");
        using var cache = new TempDir();
        Assert.False(Run(model.Path, cache.Path).Cache!.SourceValidated);    // miss: scanned, then written with the flag
        Assert.True(Run(model.Path, cache.Path).Cache!.SourceValidated);     // hit: the scan is skipped
        // A load with dropped layers scans only part of the checkpoint: its file does not vouch for the rest.
        using var partial = new TempDir();
        using (var m = TransformerModel.Load(model.Path, new LoadOptions { PackedWeightsCache = partial.Path, DropTopLayers = 1 })) { }
        using (var m = TransformerModel.Load(model.Path, new LoadOptions { PackedWeightsCache = partial.Path })) Assert.False(m.PackCache!.SourceValidated);
    }

    [Fact]
    public void ACacheWrittenWhileAllowingNonFiniteWeightsDoesNotVouchForThem()
    {
        // NaN in a query weight: loadable only with AllowNonFiniteWeights; that load writes a cache without the flag,
        // so a later strict load — a full cache hit that reads no source weight for packing — still scans and refuses.
        using var model = new TempDir();
        string src = TestPaths.Fixtures("hostile", "model", "nan_in_query_weight");
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, model.File(Path.GetFileName(f)));
        using var cache = new TempDir();
        using (var m = TransformerModel.Load(model.Path, new LoadOptions { PackedWeightsCache = cache.Path, AllowNonFiniteWeights = true }))
            Assert.False(m.PackCache!.Loaded);
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(model.Path, new LoadOptions { PackedWeightsCache = cache.Path }));
        Assert.Contains("query", e.Message);
        Assert.Contains("non-finite", e.Message);
    }

    [Fact]
    public void SparseDecisionsAreCachedAndAHitStillRunsTheSparseKernel()
    {
        using var model = TempModelFolder.CopyOf("bert-tiny-sst2");
        using var cache = new TempDir();
        var plain = Run(model.Path, null, SparseKernels.Always);
        Run(model.Path, cache.Path, SparseKernels.Always);
        using var m = TransformerModel.Load(model.Path, new LoadOptions { Threads = 1, PackedWeightsCache = cache.Path, SparseKernels = SparseKernels.Always });
        Assert.Equal(Operators, m.PackCache!.Hits);
        Assert.StartsWith("fp32-sparse", m.KernelDescription);
        AssertBitwiseEqual(plain.Embeddings, m.Embed(Texts));
        // Another sparse mode is another cache file, never the sparse decisions of this one.
        var auto = Run(model.Path, cache.Path);
        Assert.False(auto.Cache!.Loaded);
        Assert.Equal(2, Directory.GetFiles(cache.Path, "*" + PackedWeightsCache.Extension).Length);
    }

    public static TheoryData<string> Damages => ["flip-payload", "flip-table", "truncate", "empty", "garbage", "model-changed"];

    [Theory]
    [MemberData(nameof(Damages))]
    public void ADamagedOrStaleCacheIsIgnoredAndRebuilt(string damage)
    {
        using var model = TempModelFolder.CopyOf("bert-tiny-sst2");
        using var cache = new TempDir();
        var plain = Run(model.Path, null);
        Run(model.Path, cache.Path);
        string file = CacheFile(cache.Path);
        var bytes = File.ReadAllBytes(file);
        switch (damage)
        {
            case "flip-payload": bytes[^100] ^= 0x10; File.WriteAllBytes(file, bytes); break;
            case "flip-table": bytes[PackedCacheFormat.HeaderFixedBytes + 20] ^= 0x01; File.WriteAllBytes(file, bytes); break;
            case "truncate": File.WriteAllBytes(file, bytes[..(bytes.Length / 2 / 64 * 64)]); break;
            case "empty": File.WriteAllBytes(file, []); break;
            case "garbage": Random.Shared.NextBytes(bytes); File.WriteAllBytes(file, bytes); break;
            case "model-changed": File.SetLastWriteTimeUtc(model.FilePath("model.safetensors"), DateTime.UtcNow.AddMinutes(-5)); break;
        }

        var rebuilt = Run(model.Path, cache.Path);
        Assert.False(rebuilt.Cache!.Loaded);
        AssertBitwiseEqual(plain.Embeddings, rebuilt.Embeddings);
        AssertBitwiseEqual(plain.Logits, rebuilt.Logits);
        var again = Run(model.Path, cache.Path);
        Assert.Equal(Operators, again.Cache!.Hits);
        AssertBitwiseEqual(plain.Logits, again.Logits);
    }

    [Fact]
    public void AnUnwritableCacheFolderStillLoads()
    {
        using var model = TempModelFolder.CopyOf("bert-tiny-sst2");
        using var tmp = new TempDir();
        var plain = Run(model.Path, null);
        // A folder that cannot be created (its parent is a file): even root cannot write there.
        File.WriteAllText(tmp.File("not-a-folder"), "");
        var unwritable = Run(model.Path, Path.Combine(tmp.File("not-a-folder"), "packed"));
        Assert.Equal(Operators, unwritable.Cache!.Misses);
        AssertBitwiseEqual(plain.Logits, unwritable.Logits);

        // A read-only folder holding a valid cache is read (a hit writes nothing).
        if (OperatingSystem.IsWindows()) return;
        string ro = Path.Combine(tmp.Path, "ro");
        Run(model.Path, ro);
        File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var hit = Run(model.Path, ro);
            Assert.Equal(Operators, hit.Cache!.Hits);
            AssertBitwiseEqual(plain.Logits, hit.Logits);
        }
        finally { File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
    }

    [Fact]
    public void ChecksumMatchesItsScalarReferenceAndSeesEveryFlippedBit()
    {
        var rng = new Random(5);
        foreach (int words in new[] { 0, 1, 3, 4, 5, 31, 1000 })
        {
            var data = new byte[words * 8];
            rng.NextBytes(data);
            ulong sum = PackedCacheFormat.Checksum(data);
            Assert.Equal(PackedCacheFormat.ChecksumReference(data), sum);
            for (int bit = 0; bit < data.Length * 8; bit += 61)
            {
                data[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.NotEqual(sum, PackedCacheFormat.Checksum(data));
                data[bit / 8] ^= (byte)(1 << (bit % 8));
            }
        }
        // Two 64-bit words swapped within one lane change the second-order sum.
        var swap = new byte[64];
        rng.NextBytes(swap);
        (swap[0], swap[32]) = (1, 2);
        ulong before = PackedCacheFormat.Checksum(swap);
        (swap[0], swap[32]) = (swap[32], swap[0]);
        Assert.NotEqual(before, PackedCacheFormat.Checksum(swap));
    }
}
