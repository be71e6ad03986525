using NativeTransformer.Cli;

namespace NativeTransformer.Tests.Cli;

/// <summary>Extraction of the model built into ntr: one complete folder per content hash, safe under races,
/// repaired when damaged, and a fallback when a cache root is not writable.</summary>
public class EmbeddedModelTests
{
    private static readonly string[] ModelFiles =
        ["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"];

    [Fact]
    public void ExtractsTheCommittedFolderByteForByte()
    {
        using var tmp = new TempDir();
        string dir = EmbeddedModel.ExtractTo([tmp.Path]);
        Assert.Equal(tmp.Path, Path.GetDirectoryName(dir));
        Assert.Equal(ModelFiles, Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        string committed = Path.Combine(TestPaths.RepoRoot, "models", "bert-tiny-sst2-int8");
        foreach (var f in ModelFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(committed, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir, f))), f);
    }

    [Fact]
    public void ConcurrentExtractionsAgreeOnOneCompleteFolder()
    {
        using var tmp = new TempDir();
        var dirs = Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(6)
            .Select(_ => EmbeddedModel.ExtractTo([tmp.Path])).ToArray();
        Assert.Single(dirs.Distinct());
        Assert.Equal([dirs[0]], Directory.GetFileSystemEntries(tmp.Path)); // no temp folders left behind
        Assert.Equal(4_781_976, new FileInfo(Path.Combine(dirs[0], "model.safetensors")).Length);
    }

    [Fact]
    public void DamagedFolderIsReplaced()
    {
        using var tmp = new TempDir();
        string dir = EmbeddedModel.ExtractTo([tmp.Path]);
        File.WriteAllText(Path.Combine(dir, "model.safetensors"), "truncated");
        File.Delete(Path.Combine(dir, "vocab.txt"));
        Assert.Equal(dir, EmbeddedModel.ExtractTo([tmp.Path]));
        Assert.Equal(4_781_976, new FileInfo(Path.Combine(dir, "model.safetensors")).Length);
        Assert.True(File.Exists(Path.Combine(dir, "vocab.txt")));
    }

    [Fact]
    public void UnusableRootFallsBackToTheNext()
    {
        using var tmp = new TempDir();
        string blocked = tmp.Write("a-file", "not a folder"); // a root below a regular file cannot be created, even as root
        string fallback = Path.Combine(tmp.Path, "fallback");
        string dir = EmbeddedModel.ExtractTo([Path.Combine(blocked, "cache"), fallback]);
        Assert.StartsWith(fallback, dir);
        var e = Assert.Throws<IOException>(() => EmbeddedModel.ExtractTo([Path.Combine(blocked, "cache")]));
        Assert.Contains("--model DIR", e.Message);
    }
}
