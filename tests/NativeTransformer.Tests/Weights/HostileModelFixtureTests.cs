using NativeTransformer.Models;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Weights;

/// <summary>Runs a loader on its own thread with a deadline and measures what it allocates: a hostile file must fail
/// fast and small, never hang or size an allocation from a number it read.</summary>
internal static class Bounded
{
    public const long MaxAllocatedBytes = 64L << 20;
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>The exception <paramref name="action"/> threw (null if none), after asserting it finished within
    /// <see cref="Deadline"/> and allocated under <see cref="MaxAllocatedBytes"/> on its thread.</summary>
    public static Exception? Run(Action action, string what)
    {
        Exception? caught = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { action(); }
            catch (Exception e) { caught = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }) { IsBackground = true, Name = "hostile " + what };
        thread.Start();
        Assert.True(thread.Join(Deadline), $"{what}: still running after {Deadline.TotalSeconds} s (hang?)");
        Assert.True(allocated < MaxAllocatedBytes, $"{what}: allocated {allocated:N0} bytes (bound {MaxAllocatedBytes:N0})");
        return caught;
    }
}

/// <summary>
/// The config.json, tokenizer, model-folder and shard cases of tests/fixtures/hostile (see its README.md): each is refused
/// with its exact exception type and a message naming the file and the field, within a deadline and an allocation bound;
/// the few documented as accepted load.
/// </summary>
public sealed class HostileModelFixtureTests
{
    private static string FixturePath(string relative) => TestPaths.Fixtures(["hostile", .. relative.Split('/')]);

    public static TheoryData<string> Refused() => [.. HostileModelFixtures.Cases.Where(c => c.Expected != null).Select(c => c.Path)];

    private static HostileCase Case(string path) => HostileModelFixtures.Cases.Single(c => c.Path == path);

    private static void Open(HostileCase c, LoadOptions? options = null)
    {
        string path = FixturePath(c.Path);
        switch (c.Loader)
        {
            case HostileLoader.Config: ModelConfig.Load(path); break;
            case HostileLoader.Tokenizer: WordPieceTokenizer.FromDirectory(path); break;
            case HostileLoader.AnyTokenizer: TokenizerLoader.FromDirectory(path); break;
            case HostileLoader.Model: TransformerModel.Load(path, options ?? new LoadOptions { Threads = 1 }).Dispose(); break;
            case HostileLoader.Checkpoint: Checkpoint.Open(path).Dispose(); break;
        }
    }

    [Fact]
    public void CommittedFixturesMatchTheGenerator()
    {
        bool regenerate = Environment.GetEnvironmentVariable("NT_REGENERATE_HOSTILE") == "1";
        foreach (var (relative, bytes) in HostileModelFixtures.Files)
        {
            string path = FixturePath(relative);
            if (regenerate)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, bytes);
            }
            Assert.True(File.Exists(path), $"missing fixture {path}; regenerate with NT_REGENERATE_HOSTILE=1");
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(path)), $"fixture {path} differs from HostileModelFixtures");
            Assert.True(bytes.Length <= 8192, $"fixture {relative} should stay tiny");
        }
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void HostileInputIsRefusedWithItsTypedError(string relative)
    {
        var c = Case(relative);
        var e = Bounded.Run(() => Open(c), relative);

        Assert.NotNull(e);
        Assert.IsType(c.Expected!, e); // exactly this NativeTransformerException subclass, never a crash
        Assert.Contains(Path.GetFullPath(FixturePath(relative)), e.Message);
        foreach (var part in c.MessageParts) Assert.Contains(part, e.Message);
    }

    [Fact]
    public void DocumentedAcceptedCasesLoad()
    {
        foreach (var c in HostileModelFixtures.Cases.Where(c => c.Expected == null))
            Assert.Null(Bounded.Run(() => Open(c), c.Path));

        // vocab.txt duplicates: like HF's load_vocab, the last line wins and every line keeps its id.
        var dup = WordPieceTokenizer.FromDirectory(FixturePath("tokenizer/vocab_duplicate_token"));
        Assert.Equal(9, dup.VocabSize);
        Assert.True(dup.TryGetId("hello", out int id));
        Assert.Equal(8, id);
        // A leading UTF-8 BOM is not part of the first token.
        Assert.Equal(0, WordPieceTokenizer.FromDirectory(FixturePath("tokenizer/vocab_bom")).PadId);
        // A shard's tensors beyond the index are exposed, as transformers loads whole shards.
        using var shards = Checkpoint.Open(FixturePath("shards/shard_extra_tensor"));
        Assert.True(shards.TryGetInfo("extra", out _));
    }

    [Fact]
    public void NonFiniteWeightsLoadOnlyWhenAllowedAndInspectCountsThem()
    {
        string dir = FixturePath("model/nan_in_query_weight");
        using (var model = TransformerModel.Load(dir, new LoadOptions { Threads = 1, AllowNonFiniteWeights = true }))
            Assert.Contains(model.Embed(["hello world"])[0], float.IsNaN); // what the check prevents: NaN everywhere downstream

        var summary = TransformerModel.Inspect(dir);
        Assert.Equal(1, summary.NonFiniteWeights);
        Assert.Equal(["encoder.layer.0.attention.self.query.weight"], summary.NonFiniteTensors);
        var text = global::NativeTransformer.Cli.Commands.InspectCommand.FormatText(summary);
        Assert.Contains("non-finite weights:", text);
        Assert.Contains("encoder.layer.0.attention.self.query.weight", text);

        var stdout = new StringWriter();
        Assert.Equal(0, global::NativeTransformer.WeightsTools.WeightsToolsApp.Run(["inspect", dir], stdout, new StringWriter()));
        Assert.Contains("non-finite:        1 NaN/Inf in encoder.layer.0.attention.self.query.weight", stdout.ToString());

        var clean = TransformerModel.Inspect(FixturePath("model/clean"));
        Assert.Equal(0, clean.NonFiniteWeights);
        Assert.Empty(clean.NonFiniteTensors);
    }

    [Fact]
    public void NonFiniteCountMatchesTheScalarReference()
    {
        var rng = new Random(6);
        foreach (int n in new[] { 0, 1, 7, 8, 15, 16, 17, 63, 64, 65, 1000 })
        {
            var v = new float[n];
            for (int i = 0; i < n; i++)
                v[i] = rng.Next(6) switch
                {
                    0 => float.NaN, 1 => float.PositiveInfinity, 2 => float.NegativeInfinity,
                    3 => BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0001)), // negative NaN with payload
                    4 => float.MaxValue, _ => (float)rng.NextDouble() - 0.5f,
                };
            Assert.Equal(NonFinite.CountScalar(v), NonFinite.Count(v));
            if (n > 0) Assert.Equal(Array.FindIndex(v, x => !float.IsFinite(x)), NonFinite.IndexOfFirst(v));
        }
        Assert.Equal(0, NonFinite.Count(new float[100]));
        Assert.Equal(1, NonFinite.Count([float.Epsilon, -0f, float.MinValue, float.NaN]));
    }

    [Theory]
    [InlineData("config.json", ModelConfig.MaxConfigBytes)]
    [InlineData("vocab.txt", Vocabulary.MaxFileBytes)]
    [InlineData("tokenizer.json", TokenizerConfigLoader.MaxJsonBytes)]
    [InlineData("tokenizer_config.json", TokenizerConfigLoader.MaxJsonBytes)]
    public void HugeFilesAreRefusedBeforeReading(string file, long limit)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"u8.ToArray());
        using (var huge = new FileStream(dir.File(file), FileMode.Create)) huge.SetLength(limit + 1); // sparse: no disk, no RAM

        var e = Bounded.Run(() =>
        {
            if (file == "config.json") ModelConfig.Load(dir.File(file));
            else WordPieceTokenizer.FromDirectory(dir.Path);
        }, file);

        Assert.IsType(file == "config.json" ? typeof(ModelConfigException) : typeof(TokenizerException), e);
        Assert.Contains(file, e!.Message);
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void ShardSymlinkOutsideTheFolderIsFollowedAndStillValidated()
    {
        // Symlinked shards are legitimate (the Hugging Face cache links snapshots to ../../blobs), so they are followed;
        // what they point at is validated like any shard.
        using var outside = new TempDir();
        using var dir = new TempDir();
        File.WriteAllBytes(outside.File("blob"), RawSafetensors.Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4));
        File.WriteAllText(dir.File(Checkpoint.IndexFileName), "{\"weight_map\":{\"w\":\"a.safetensors\"}}");
        try { File.CreateSymbolicLink(dir.File("a.safetensors"), outside.File("blob")); }
        catch (Exception e) when (OperatingSystem.IsWindows() && e is IOException or UnauthorizedAccessException)
        {
            return; // Windows without developer mode cannot create symbolic links; everywhere else this must work
        }

        var error = Assert.IsType<SafetensorsException>(Bounded.Run(() => Checkpoint.Open(dir.Path).Dispose(), "symlink"));
        Assert.Equal(SafetensorsError.OffsetsOutOfBounds, error.Error);
        Assert.Contains(dir.File("a.safetensors"), error.Message);
    }

    [Fact]
    public void BatchBuffersAreSizedWithCheckedArithmetic()
    {
        Assert.Equal(32 * 128 * 3 * 384, RunState.Length(32, 128, 3 * 384));
        var e = Assert.Throws<InputException>(() => RunState.Length(100_000, 512, 3 * 1024));
        Assert.Contains("smaller batch size", e.Message);
        Assert.Throws<InputException>(() => RunState.Length(int.MaxValue, int.MaxValue, 3L * int.MaxValue));
    }

    [Fact]
    public void CorpusCoversEveryKindTheIssueLists()
    {
        var paths = HostileModelFixtures.Cases.Select(c => c.Path).ToHashSet();
        string[] required =
        [
            "config/not_json", "config/not_utf8", "config/nested_too_deep", "config/hidden_size_1e9", "config/layers_1e6",
            "config/vocab_size_1e12", "tokenizer/vocab_duplicate_special", "tokenizer/vocab_missing_unk", "tokenizer/added_token_negative_id",
            "model/nan_in_query_weight", "model/inf_in_word_embeddings", "model/vocab_exceeds_config", "shards/tensor_in_two_shards",
        ];
        foreach (var r in required) Assert.Contains(paths, p => p.StartsWith(r, StringComparison.Ordinal));
        // With the safetensors-header cases of HostileFixtures, well over the 30 files the hostile-input suite aims for.
        Assert.True(HostileModelFixtures.Cases.Count + HostileFixtures.All.Count >= 60);
    }
}
