using System.Text.Json;
using NativeTransformer.Compression;
using NativeTransformer.Tests.WeightsTools;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Compression;

public sealed class MagnitudePruningTests
{
    private static float[] RandomValues(int n, int seed, bool withTies = false)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = withTies ? rng.Next(-4, 5) * 0.25f + (rng.Next(2) == 0 ? 0.125f : -0.125f) : (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static List<NamedMatrix> TinyLayers(int seed = 1) =>
    [
        new("bert.encoder.layer.0.attention.self.query.weight", RandomValues(8 * 8, seed), 8, 8),
        new("bert.encoder.layer.0.intermediate.dense.weight", RandomValues(16 * 8, seed + 1), 16, 8),
        new("bert.encoder.layer.1.attention.self.query.weight", RandomValues(8 * 8, seed + 2), 8, 8),
        new("bert.encoder.layer.1.output.dense.weight", RandomValues(8 * 12, seed + 3), 8, 12),
    ];

    /// <summary>Every zeroed |w| ≤ every kept |w| over the group (original values).</summary>
    private static void AssertThresholdProperty(IEnumerable<(float Before, float After)> group)
    {
        float maxZeroed = 0, minKept = float.PositiveInfinity;
        foreach (var (b, a) in group)
        {
            if (a == 0f) maxZeroed = Math.Max(maxZeroed, Math.Abs(b));
            else { Assert.Equal(b, a); minKept = Math.Min(minKept, Math.Abs(b)); }
        }
        Assert.True(maxZeroed <= minKept, $"zeroed {maxZeroed} > kept {minKept}");
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.29)]
    [InlineData(0.9)]
    public void MatrixScopeGivesExactlyFloorZerosPerMatrix(double s)
    {
        var input = TinyLayers();
        var output = MagnitudePruning.Prune(input, s, PruningScope.Matrix);
        for (int i = 0; i < input.Count; i++)
        {
            Assert.Equal(input[i].Name, output[i].Name);
            Assert.Equal((long)Math.Floor((decimal)s * input[i].Count), MagnitudePruning.CountZeros(output[i].Values));
            AssertThresholdProperty(input[i].Values.Zip(output[i].Values));
        }
        Assert.Equal(29, MagnitudePruning.TargetZeros(100, 0.29));
    }

    [Fact]
    public void LayerScopeSharesOneThresholdPerLayer()
    {
        var input = TinyLayers();
        var output = MagnitudePruning.Prune(input, 0.4, PruningScope.Layer);
        foreach (var (a, b) in new[] { (0, 1), (2, 3) })
        {
            long n = input[a].Count + input[b].Count;
            Assert.Equal((long)Math.Floor(0.4m * n), MagnitudePruning.CountZeros(output[a].Values) + MagnitudePruning.CountZeros(output[b].Values));
            AssertThresholdProperty(input[a].Values.Zip(output[a].Values).Concat(input[b].Values.Zip(output[b].Values)));
        }
    }

    [Fact]
    public void GlobalScopeSharesOneThreshold()
    {
        var input = TinyLayers();
        input[1] = input[1] with { Values = input[1].Values.Select(v => v * 10).ToArray() }; // large matrix survives
        var output = MagnitudePruning.Prune(input, 0.5, PruningScope.Global);
        long n = input.Sum(m => m.Count);
        Assert.Equal(n / 2, output.Sum(m => MagnitudePruning.CountZeros(m.Values)));
        AssertThresholdProperty(input.Zip(output).SelectMany(p => p.First.Values.Zip(p.Second.Values)));
        Assert.True(MagnitudePruning.Sparsity(output[1].Values) < 0.2);
    }

    [Theory]
    [InlineData(PruningScope.Matrix)]
    [InlineData(PruningScope.Layer)]
    [InlineData(PruningScope.Global)]
    public void TiesAreBrokenByIndexAndCountsStayExact(PruningScope scope)
    {
        var input = new List<NamedMatrix>
        {
            new("encoder.layer.0.attention.self.key.weight", RandomValues(7 * 5, 3, withTies: true), 7, 5),
            new("encoder.layer.0.attention.self.value.weight", RandomValues(5 * 7, 4, withTies: true), 5, 7),
        };
        var a = MagnitudePruning.Prune(input, 0.37, scope);
        var b = MagnitudePruning.Prune(input, 0.37, scope);
        Assert.Equal(a.Select(m => m.Values), b.Select(m => m.Values)); // deterministic
        long total = a.Sum(m => MagnitudePruning.CountZeros(m.Values));
        long expected = scope == PruningScope.Matrix ? input.Sum(m => (long)Math.Floor(0.37m * m.Count)) : (long)Math.Floor(0.37m * 70);
        Assert.Equal(expected, total);
        // ties at the threshold: earlier index zeroed first
        var flatIn = input.SelectMany(m => m.Values).ToArray();
        var flatOut = a.SelectMany(m => m.Values).ToArray();
        if (scope != PruningScope.Matrix)
        {
            float t = flatIn.Where((_, i) => flatOut[i] == 0).Max(Math.Abs);
            bool keptOne = false;
            for (int i = 0; i < flatIn.Length; i++)
                if (Math.Abs(flatIn[i]) == t)
                {
                    if (flatOut[i] != 0) keptOne = true;
                    else Assert.False(keptOne, "a later tie was zeroed after an earlier one was kept");
                }
        }
    }

    [Fact]
    public void ExistingZerosCountTowardTheTarget()
    {
        var v = RandomValues(100, 9);
        for (int i = 0; i < 20; i++) v[i * 5] = 0f;
        v[1] = -0f;
        var outp = MagnitudePruning.PruneMatrix(v, 0.3);
        Assert.Equal(30, MagnitudePruning.CountZeros(outp));
        Assert.All(Enumerable.Range(0, 100).Where(i => v[i] == 0), i => Assert.Equal(0f, outp[i]));
        // more zeros than the target: nothing else is touched
        Assert.Equal(v, MagnitudePruning.PruneMatrix(v, 0.1));
    }

    [Fact]
    public void SparsityZeroChangesNothingAndInputIsNotModified()
    {
        var input = TinyLayers();
        var copies = input.Select(m => (float[])m.Values.Clone()).ToList();
        foreach (var scope in Enum.GetValues<PruningScope>())
        {
            var output = MagnitudePruning.Prune(input, 0, scope);
            for (int i = 0; i < input.Count; i++) Assert.Equal(copies[i], output[i].Values);
        }
        MagnitudePruning.Prune(input, 0.7, PruningScope.Global);
        for (int i = 0; i < input.Count; i++) Assert.Equal(copies[i], input[i].Values);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void BadSparsityThrows(double s) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MagnitudePruning.Prune(TinyLayers(), s, PruningScope.Matrix));

    [Fact]
    public void TwoFourZerosTheTwoSmallestOfEveryGroup()
    {
        var input = TinyLayers();
        var output = MagnitudePruning.Prune(input, 0.5, PruningScope.Matrix, SparsityPattern.TwoFour);
        for (int m = 0; m < input.Count; m++)
        {
            var w = input[m].Values; var o = output[m].Values;
            Assert.Equal(w.Length / 2, MagnitudePruning.CountZeros(o));
            for (int g = 0; g < w.Length; g += 4)
            {
                Assert.Equal(2, o.AsSpan(g, 4).ToArray().Count(x => x == 0));
                AssertThresholdProperty(w.AsSpan(g, 4).ToArray().Zip(o.AsSpan(g, 4).ToArray()));
            }
        }
        // ties: lower index first
        Assert.Equal(new[] { 0f, 0f, 1f, -1f, 0f, 3f, 0f, 2f }, MagnitudePruning.PruneTwoFour([1f, 1f, 1f, -1f, 0f, 3f, -1f, 2f], 2, 4));
        Assert.Throws<ArgumentException>(() => MagnitudePruning.PruneTwoFour(new float[6], 2, 3));
        Assert.Throws<ArgumentException>(() => MagnitudePruning.Prune(input, 0.3, PruningScope.Matrix, SparsityPattern.TwoFour));
    }

    [Theory]
    [InlineData("bert.encoder.layer.0.attention.self.query.weight", "layer 0")]
    [InlineData("bert.encoder.layer.3.attention.self.key.weight", "layer 3")]
    [InlineData("bert.encoder.layer.11.attention.self.value.weight", "layer 11")]
    [InlineData("bert.encoder.layer.2.attention.output.dense.weight", "layer 2")]
    [InlineData("bert.encoder.layer.2.intermediate.dense.weight", "layer 2")]
    [InlineData("bert.encoder.layer.2.output.dense.weight", "layer 2")]
    [InlineData("encoder.layer.5.output.dense.weight", "layer 5")]
    [InlineData("distilbert.transformer.layer.1.attention.q_lin.weight", "layer 1")]
    [InlineData("distilbert.transformer.layer.1.attention.k_lin.weight", "layer 1")]
    [InlineData("distilbert.transformer.layer.1.attention.v_lin.weight", "layer 1")]
    [InlineData("distilbert.transformer.layer.1.attention.out_lin.weight", "layer 1")]
    [InlineData("distilbert.transformer.layer.4.ffn.lin1.weight", "layer 4")]
    [InlineData("distilbert.transformer.layer.4.ffn.lin2.weight", "layer 4")]
    [InlineData("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight", "group 0.0")]
    [InlineData("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.key.weight", "group 0.0")]
    [InlineData("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.value.weight", "group 0.0")]
    [InlineData("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.dense.weight", "group 0.0")]
    [InlineData("albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.weight", "group 1.0")]
    [InlineData("albert.encoder.albert_layer_groups.1.albert_layers.0.ffn_output.weight", "group 1.0")]
    public void SelectsEncoderLinearWeights(string key, string layer)
    {
        Assert.True(PruneSelection.IsEncoderLinearWeight(key));
        Assert.Equal(layer, PruneSelection.LayerGroup(key));
    }

    [Theory]
    [InlineData("bert.embeddings.word_embeddings.weight")]
    [InlineData("bert.embeddings.position_embeddings.weight")]
    [InlineData("bert.embeddings.LayerNorm.weight")]
    [InlineData("bert.encoder.layer.0.attention.output.LayerNorm.weight")]
    [InlineData("bert.encoder.layer.0.output.LayerNorm.weight")]
    [InlineData("bert.encoder.layer.0.attention.self.query.bias")]
    [InlineData("bert.encoder.layer.0.output.dense.bias")]
    [InlineData("bert.pooler.dense.weight")]
    [InlineData("classifier.weight")]
    [InlineData("cls.predictions.transform.dense.weight")]
    [InlineData("cls.predictions.decoder.weight")]
    [InlineData("distilbert.embeddings.word_embeddings.weight")]
    [InlineData("distilbert.transformer.layer.0.sa_layer_norm.weight")]
    [InlineData("distilbert.transformer.layer.0.output_layer_norm.weight")]
    [InlineData("distilbert.transformer.layer.0.ffn.lin1.bias")]
    [InlineData("pre_classifier.weight")]
    [InlineData("vocab_transform.weight")]
    [InlineData("albert.embeddings.word_embeddings.weight")]
    [InlineData("albert.encoder.embedding_hidden_mapping_in.weight")]
    [InlineData("albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight")]
    [InlineData("albert.encoder.albert_layer_groups.0.albert_layers.0.attention.LayerNorm.weight")]
    [InlineData("albert.pooler.weight")]
    [InlineData("predictions.dense.weight")]
    [InlineData("bert.encoder.layer.0.attention.self.query.weight.extra")]
    public void LeavesEverythingElse(string key) => Assert.False(PruneSelection.IsEncoderLinearWeight(key));
}

/// <summary>Prunes the shared bert-mini-sst2 folder once (matrix scope, 0.3).</summary>
public sealed class PrunedBertMiniFixture : IDisposable
{
    public string Root { get; } = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "nt-prune-" + Guid.NewGuid().ToString("N"))).FullName;
    public string Source => TestPaths.Model("bert-mini-sst2");
    public string Dir => Path.Combine(Root, "pruned");
    public MakeRandomRun Result { get; }

    public PrunedBertMiniFixture() =>
        Result = MakeRandomRun.Run("prune", Source, "--output", Dir, "--sparsity", "0.3", "--method", "magnitude", "--scope", "matrix");

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

public sealed class PruneFolderTests(PrunedBertMiniFixture fixture) : IClassFixture<PrunedBertMiniFixture>
{
    [Fact]
    public void PrunedFolderLoadsAndClassifies()
    {
        Assert.True(fixture.Result.ExitCode == 0, fixture.Result.Stderr);
        Assert.Contains("sparsity 0.3000", fixture.Result.Stdout);
        foreach (var f in Directory.EnumerateFiles(fixture.Source).Select(Path.GetFileName))
            Assert.True(File.Exists(Path.Combine(fixture.Dir, f!)), f + " missing");
        Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Source, "config.json")), File.ReadAllBytes(Path.Combine(fixture.Dir, "config.json")));

        using var original = TransformerModel.Load(fixture.Source, new LoadOptions { Threads = 1 });
        using var pruned = TransformerModel.Load(fixture.Dir, new LoadOptions { Threads = 1 });
        string[] texts = ["a charming and often affecting journey", "bleak and desperate", "an utterly incompetent, boring mess", "a gorgeous, witty, seductive movie"];
        var a = original.Classify(texts);
        var b = pruned.Classify(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.True(float.IsFinite(b[i].Score));
            Assert.Equal(a[i].Label, b[i].Label); // 30 % magnitude pruning keeps these clear cases
        }
    }

    [Fact]
    public void EncoderLinearWeightsHaveExactZerosAndEverythingElseIsBitIdentical()
    {
        using var src = Checkpoint.Open(fixture.Source);
        using var dst = SafetensorsFile.Open(Path.Combine(fixture.Dir, "model.safetensors"));
        Assert.Equal(src.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal), dst.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
        int selected = 0;
        foreach (var t in src.Tensors)
        {
            var d = dst.GetInfo(t.Name);
            Assert.Equal(t.DType, d.DType);
            Assert.Equal(t.Shape, d.Shape);
            if (PruneSelection.IsEncoderLinearWeight(t.Name))
            {
                selected++;
                Assert.Equal((long)Math.Floor(0.3m * t.ElementCount), MagnitudePruning.CountZeros(dst.GetFloat32(t.Name).Span));
            }
            else
                Assert.True(src.GetBytes(t.Name).SequenceEqual(dst.GetBytes(t.Name)), t.Name + " changed");
        }
        Assert.Equal(4 * 6, selected); // bert-mini: 4 layers × 6 Linear layers
        Assert.Equal("magnitude", dst.Metadata["nt.prune.method"]);
        Assert.Equal("0.3", dst.Metadata["nt.prune.sparsity"]);
        Assert.Equal("matrix", dst.Metadata["nt.prune.scope"]);
        Assert.Equal("unstructured", dst.Metadata["nt.prune.pattern"]);
        Assert.Equal("pt", dst.Metadata["format"]);
    }

    [Fact]
    public void InspectReportsSparsityPerMatrix()
    {
        var r = MakeRandomRun.Run("inspect", fixture.Dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("parameters:", r.Stdout);
        Assert.Contains("sparsity per matrix", r.Stdout);
        var line = r.Stdout.Split('\n').Single(l => l.Contains("bert.encoder.layer.0.intermediate.dense.weight"));
        Assert.Contains("78,643 /    262,144", line);
        var emb = r.Stdout.Split('\n').Single(l => l.Contains("bert.embeddings.word_embeddings.weight"));
        Assert.EndsWith("0.0000", emb.TrimEnd());
    }

    [Theory]
    [InlineData("prune")]
    [InlineData("prune", "DIR")]
    [InlineData("prune", "DIR", "--output", "X", "--method", "magnitude")]
    [InlineData("prune", "DIR", "--output", "X", "--sparsity", "0.3")]
    [InlineData("prune", "DIR", "--output", "X", "--sparsity", "0.3", "--method", "random")]
    [InlineData("prune", "DIR", "--output", "X", "--sparsity", "1", "--method", "magnitude")]
    [InlineData("prune", "DIR", "--output", "X", "--sparsity", "abc", "--method", "magnitude")]
    [InlineData("prune", "DIR", "--output", "X", "--sparsity", "0.3", "--method", "magnitude", "--scope", "row")]
    [InlineData("prune", "DIR", "--output", "X", "--sparsity", "0.3", "--method", "magnitude", "--pattern", "2:4")]
    [InlineData("prune", "DIR", "--output", "X", "--method", "magnitude", "--pattern", "4:8")]
    [InlineData("prune", "DIR", "--output", "X", "--method", "magnitude", "--pattern", "2:4", "--scope", "global")]
    [InlineData("prune", "DIR", "--output", "X", "--sparsity", "0.3", "--method", "magnitude", "--bogus", "1")]
    [InlineData("prune", "DIR", "--output")]
    public void BadArgumentsAreUsageErrors(params string[] args)
    {
        var r = MakeRandomRun.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("weights-tools: error: prune:", r.Stderr);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void MissingFolderAndNonEmptyOutputAreErrors()
    {
        var missing = MakeRandomRun.Run("prune", Path.Combine(fixture.Root, "nope"), "--output", Path.Combine(fixture.Root, "o1"), "--sparsity", "0.3", "--method", "magnitude");
        Assert.Equal(1, missing.ExitCode);
        Assert.Single(missing.Stderr.TrimEnd('\n').Split('\n'));
        var existing = MakeRandomRun.Run("prune", fixture.Source, "--output", fixture.Dir, "--sparsity", "0.3", "--method", "magnitude");
        Assert.Equal(1, existing.ExitCode);
        Assert.Contains("not empty", existing.Stderr);
    }

    [Fact]
    public void TwoFourAndGlobalOnOtherFamilies()
    {
        string distil = Path.Combine(fixture.Root, "distil24");
        var r = MakeRandomRun.Run("prune", TestPaths.Model("distilbert-mini-sst2"), "--output", distil, "--method", "magnitude", "--pattern", "2:4");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using (var f = SafetensorsFile.Open(Path.Combine(distil, "model.safetensors")))
        {
            var lin = f.Tensors.Where(t => PruneSelection.IsEncoderLinearWeight(t.Name)).ToList();
            Assert.NotEmpty(lin);
            foreach (var t in lin)
            {
                var w = f.GetFloat32(t.Name).ToArray();
                Assert.Equal(w.Length / 2, MagnitudePruning.CountZeros(w));
                for (int g = 0; g < w.Length; g += 4) Assert.True(w.AsSpan(g, 4).ToArray().Count(x => x == 0) >= 2);
            }
            Assert.Equal("2:4", f.Metadata["nt.prune.pattern"]);
        }
        using (var m = TransformerModel.Load(distil, new LoadOptions { Threads = 1 }))
            Assert.All(m.Classify(["fine"])[0].Logits, v => Assert.True(float.IsFinite(v)));

        string albert = Path.Combine(fixture.Root, "albert-global");
        r = MakeRandomRun.Run("prune", TestPaths.Model("albert-mini-sst2"), "--output", albert, "--sparsity", "0.5", "--method", "magnitude", "--scope", "global");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var a = SafetensorsFile.Open(Path.Combine(albert, "model.safetensors"));
        var sel = a.Tensors.Where(t => PruneSelection.IsEncoderLinearWeight(t.Name)).ToList();
        Assert.Equal(6, sel.Count);
        long n = sel.Sum(t => t.ElementCount);
        Assert.Equal(n / 2, sel.Sum(t => MagnitudePruning.CountZeros(a.GetFloat32(t.Name).Span)));
    }
}
