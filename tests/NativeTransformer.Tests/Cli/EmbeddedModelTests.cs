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
        // No temp folders left behind; the lock file stays (deleting it would race with waiters).
        Assert.Equal([EmbeddedModel.LockFileName, Path.GetFileName(dirs[0])],
            Directory.GetFileSystemEntries(tmp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(4_781_976, new FileInfo(Path.Combine(dirs[0], "model.safetensors")).Length);
    }

    /// <summary>CI caught this once in the AOT smoke test: a process that had just returned the winner's folder lost it,
    /// because a slower one, seeing no folder at one check and a folder at the next, took the fresh folder for a
    /// damaged one and moved it aside. Here "another process" finishes in exactly that gap and starts using its folder;
    /// the slower extraction must return the same folder and leave it alone.</summary>
    [Fact]
    public void AFolderAnotherProcessJustCompletedIsNeverMovedAside()
    {
        using var tmp = new TempDir();
        string? winner = null;
        EmbeddedModel.AfterFirstCheck = () =>
        {
            EmbeddedModel.AfterFirstCheck = null;
            winner = EmbeddedModel.ExtractTo([tmp.Path]);
            File.WriteAllText(Path.Combine(winner, "in-use-by-the-winner"), "");
        };
        try
        {
            string dir = EmbeddedModel.ExtractTo([tmp.Path]);
            Assert.NotNull(winner);
            Assert.Equal(winner, dir);
            Assert.True(File.Exists(Path.Combine(dir, "in-use-by-the-winner")), "the winner's folder was replaced under it");
        }
        finally { EmbeddedModel.AfterFirstCheck = null; }
    }

    [Fact]
    public async Task ExtractionWaitsForTheLockHolderAndGivesUpOnTheRootAfterTheTimeout()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "cache");
        Directory.CreateDirectory(root);
        using (var held = new FileStream(Path.Combine(root, EmbeddedModel.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var waiting = Task.Run(() => EmbeddedModel.ExtractTo([root]));
            var first = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(300)));
            Assert.False(first == waiting, "extracted while another holder had the lock");
            held.Dispose();
            string dir = await waiting.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(4_781_976, new FileInfo(Path.Combine(dir, "model.safetensors")).Length);
        }
        string other = Path.Combine(tmp.Path, "other");
        Directory.CreateDirectory(other);
        using var stuck = new FileStream(Path.Combine(other, EmbeddedModel.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        string fallback = Path.Combine(tmp.Path, "fallback");
        Assert.StartsWith(fallback, EmbeddedModel.ExtractTo([other, fallback], TimeSpan.FromMilliseconds(50)));
        var e = Assert.Throws<IOException>(() => EmbeddedModel.ExtractTo([other], TimeSpan.FromMilliseconds(50)));
        Assert.Contains("has held the lock", e.Message);
        Assert.Contains(EmbeddedModel.LockFileName, e.Message);
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
