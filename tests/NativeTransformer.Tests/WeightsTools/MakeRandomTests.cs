using System.Text.Json;
using System.Text.Json.Nodes;
using NativeTransformer.Weights;
using NativeTransformer.WeightsTools;

namespace NativeTransformer.Tests.WeightsTools;

/// <summary>One minilm-l6 folder (seed 7) made once and shared by the tests of <see cref="MakeRandomTests"/>.</summary>
public sealed class MiniLmRandomFixture : IDisposable
{
    public string Root { get; } = Directory.CreateDirectory(
        Path.Combine(Path.GetTempPath(), "nt-make-random-" + Guid.NewGuid().ToString("N"))).FullName;
    public string Dir => Path.Combine(Root, "seed7");
    public MakeRandomRun Result { get; }

    public MiniLmRandomFixture() => Result = MakeRandomRun.Run("make-random", "--shape", "minilm-l6", "--seed", "7",
        "--output", Dir, "--vocab-from", MakeRandomRun.VocabFolder);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

public sealed record MakeRandomRun(int ExitCode, string Stdout, string Stderr)
{
    public static string VocabFolder => TestPaths.Model("bert-mini-sst2");

    public static MakeRandomRun Run(params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int code = WeightsToolsApp.Run(args, stdout, stderr);
        return new MakeRandomRun(code, stdout.ToString(), stderr.ToString());
    }
}

public sealed class MakeRandomTests(MiniLmRandomFixture fixture) : IClassFixture<MiniLmRandomFixture>
{
    [Fact]
    public void WritesAFolderTheRuntimeLoads()
    {
        Assert.True(fixture.Result.ExitCode == 0, fixture.Result.Stderr);
        foreach (var f in new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer.json" })
            Assert.True(File.Exists(Path.Combine(fixture.Dir, f)), f + " missing");

        using var model = TransformerModel.Load(fixture.Dir, new LoadOptions { Threads = 1 });
        Assert.Equal("BertModel", model.Config.Architecture);
        Assert.Equal(384, model.Config.HiddenSize);
        Assert.Equal(6, model.Config.NumLayers);
        Assert.Equal(12, model.Config.NumHeads);
        Assert.Equal(1536, model.Config.IntermediateSize);
        Assert.Equal(30522, model.Config.VocabSize);
        Assert.True(model.HasPooler);
        Assert.False(model.HasClassifier);

        var embedding = model.Embed(["a gorgeous, witty movie"])[0];
        Assert.Equal(384, embedding.Length);
        Assert.All(embedding, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ConfigMatchesTheShape()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Dir, "config.json")))!.AsObject();
        Assert.Equal("bert", (string?)config["model_type"]);
        Assert.Equal("BertModel", (string?)config["architectures"]![0]);
        Assert.Equal(384, (int)config["hidden_size"]!);
        Assert.Equal(6, (int)config["num_hidden_layers"]!);
        Assert.Equal(12, (int)config["num_attention_heads"]!);
        Assert.Equal(1536, (int)config["intermediate_size"]!);
        Assert.Equal(30522, (int)config["vocab_size"]!);
        Assert.Equal(512, (int)config["max_position_embeddings"]!);
        Assert.Equal(2, (int)config["type_vocab_size"]!);
        Assert.Equal("gelu", (string?)config["hidden_act"]);
        Assert.Equal(1e-12, (double)config["layer_norm_eps"]!);
    }

    [Fact]
    public void KeysEqualTheRealAllMiniLmHeader()
    {
        string headerPath = Path.Combine(TestPaths.Model("all-MiniLM-L6-v2"), "reference", "model.safetensors.header.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(headerPath));
        var expected = doc.RootElement.EnumerateObject()
            .Where(p => p.Name is not ("__metadata__" or "embeddings.position_ids"))
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray());

        using var file = SafetensorsFile.Open(Path.Combine(fixture.Dir, "model.safetensors"));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in file.Tensors)
        {
            Assert.Equal(DType.F32, t.DType);
            Assert.Equal(expected[t.Name], t.Shape.ToArray());
        }
    }

    [Fact]
    public void WeightsFollowBertInitialisation()
    {
        using var file = SafetensorsFile.Open(Path.Combine(fixture.Dir, "model.safetensors"));
        var w = file.GetFloat32("encoder.layer.3.intermediate.dense.weight").Span;
        double mean = 0, sq = 0;
        foreach (float v in w) { mean += v; sq += (double)v * v; }
        mean /= w.Length;
        double std = Math.Sqrt(sq / w.Length - mean * mean);
        Assert.InRange(mean, -1e-3, 1e-3);
        Assert.InRange(std, 0.0195, 0.0205);

        Assert.All(file.GetFloat32("encoder.layer.0.output.LayerNorm.weight").ToArray(), v => Assert.Equal(1f, v));
        Assert.All(file.GetFloat32("embeddings.LayerNorm.bias").ToArray(), v => Assert.Equal(0f, v));
        Assert.All(file.GetFloat32("encoder.layer.5.attention.self.query.bias").ToArray(), v => Assert.Equal(0f, v));
        Assert.All(file.GetFloat32("pooler.dense.bias").ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void SameSeedGivesIdenticalBytesAndAnotherSeedDifferentOnes()
    {
        string same = Path.Combine(fixture.Root, "seed7-again"), other = Path.Combine(fixture.Root, "seed8");
        Assert.Equal(0, MakeRandomRun.Run("make-random", "--shape", "minilm-l6", "--seed", "7", "--output", same, "--vocab-from", MakeRandomRun.VocabFolder).ExitCode);
        Assert.Equal(0, MakeRandomRun.Run("make-random", "--shape", "minilm-l6", "--seed", "8", "--output", other, "--vocab-from", MakeRandomRun.VocabFolder).ExitCode);

        byte[] a = File.ReadAllBytes(Path.Combine(fixture.Dir, "model.safetensors"));
        Assert.Equal(a, File.ReadAllBytes(Path.Combine(same, "model.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(fixture.Dir, "config.json")), File.ReadAllText(Path.Combine(same, "config.json")));

        byte[] b = File.ReadAllBytes(Path.Combine(other, "model.safetensors"));
        Assert.Equal(a.Length, b.Length);
        Assert.False(a.AsSpan().SequenceEqual(b));
        using var fa = SafetensorsFile.Open(Path.Combine(fixture.Dir, "model.safetensors"));
        using var fb = SafetensorsFile.Open(Path.Combine(other, "model.safetensors"));
        Assert.False(fa.GetBytes("embeddings.word_embeddings.weight").SequenceEqual(fb.GetBytes("embeddings.word_embeddings.weight")));
    }

    [Fact]
    public void GeneratedValuesDoNotDependOnOrder()
    {
        var spec = RandomModelGenerator.TensorSpecs(BertShape.Known["minilm-l6"], null).First(s => s.Name == "encoder.layer.2.attention.self.key.weight");
        byte[] first = RandomModelGenerator.GenerateBytes(spec, 7);
        using var file = SafetensorsFile.Open(Path.Combine(fixture.Dir, "model.safetensors"));
        Assert.True(file.GetBytes(spec.Name).SequenceEqual(first));
        Assert.Equal(first, RandomModelGenerator.GenerateBytes(spec, 7));
    }

    [Fact]
    public void LabelsGiveBertForSequenceClassificationKeys()
    {
        var specs = RandomModelGenerator.TensorSpecs(BertShape.Known["bert-base"], labels: 3);
        var names = specs.Select(s => s.Name).ToHashSet();
        Assert.Contains("bert.embeddings.word_embeddings.weight", names);
        Assert.Contains("bert.encoder.layer.11.output.LayerNorm.bias", names);
        Assert.Contains("bert.pooler.dense.weight", names);
        Assert.Equal([3L, 768L], specs.Single(s => s.Name == "classifier.weight").Shape);
        Assert.Equal([3L], specs.Single(s => s.Name == "classifier.bias").Shape);
        Assert.All(names.Where(n => !n.StartsWith("classifier.", StringComparison.Ordinal)), n => Assert.StartsWith("bert.", n));
        Assert.Equal(5 + 12 * 16 + 2 + 2, specs.Count);
        Assert.Equal("BertForSequenceClassification", (string?)RandomModelGenerator.Config(BertShape.Known["bert-base"], 3)["architectures"]![0]);
    }

    [Fact]
    public void ClassifierFolderLoadsWithItsHead()
    {
        string dir = Path.Combine(fixture.Root, "labels2");
        var run = MakeRandomRun.Run("make-random", "--shape", "minilm-l6", "--seed", "1", "--labels", "2", "--output", dir, "--vocab-from", MakeRandomRun.VocabFolder);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var model = TransformerModel.Load(dir, new LoadOptions { Threads = 1 });
        Assert.True(model.HasClassifier);
        Assert.Equal(2, model.NumLabels);
        var c = model.Classify([new TextInput("one of the best films")])[0];
        Assert.Contains(c.Label, new[] { "LABEL_0", "LABEL_1" });
    }

    [Theory]
    [InlineData(new string[] { "make-random" }, "--shape is required")]
    [InlineData(new string[] { "make-random", "--shape", "bert-huge", "--output", "x" }, "unknown shape 'bert-huge'")]
    [InlineData(new string[] { "make-random", "--shape", "minilm-l6" }, "--output is required")]
    [InlineData(new string[] { "make-random", "--shape", "minilm-l6", "--output", "x", "--seed", "abc" }, "--seed must be an integer")]
    [InlineData(new string[] { "make-random", "--shape", "minilm-l6", "--output", "x", "--labels", "0" }, "--labels must be an integer")]
    [InlineData(new string[] { "make-random", "--shape", "minilm-l6", "--output" }, "--output needs a value")]
    [InlineData(new string[] { "make-random", "--shape", "minilm-l6", "--output", "x", "--frobnicate", "1" }, "unknown argument '--frobnicate'")]
    [InlineData(new string[] { "make-random", "--shape", "minilm-l6", "--output", "x", "--vocab-from", "/nonexistent-vocab-dir" }, "no vocab.txt")]
    [InlineData(new string[] { "frobnicate" }, "unknown command")]
    public void BadArgumentsGiveAClearErrorAndExitCode2(string[] args, string message)
    {
        var run = MakeRandomRun.Run(args);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("weights-tools: error: ", run.Stderr);
        Assert.Contains(message, run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Equal("", run.Stdout);
        Assert.False(Directory.Exists("x"));
    }
}

/// <summary>make-random's Longformer shapes: 4,098 positions, the global projections, a classifier that loads and runs 4,096 tokens.</summary>
public sealed class MakeRandomLongformerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nt-make-random-lf-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void LongformerBaseShapeHasTheRealKeysAndConfig()
    {
        var shape = BertShape.Known["longformer-base-4096"];
        var specs = RandomModelGenerator.TensorSpecs(shape, null);
        Assert.Contains(specs, s => s.Name == "encoder.layer.11.attention.self.value_global.weight" && s.Shape.SequenceEqual(new long[] { 768, 768 }));
        Assert.Contains(specs, s => s.Name == "embeddings.position_embeddings.weight" && s.Shape[0] == 4098);
        var config = NativeTransformer.Models.ModelConfig.Parse(RandomModelGenerator.Config(shape, 2).ToJsonString());
        Assert.Equal(NativeTransformer.Models.ModelFamily.Longformer, config.Family);
        Assert.Equal(4096, config.MaxSequenceLength);
        Assert.All(config.Longformer!.AttentionWindow, w => Assert.Equal(512, w));
    }

    [Fact]
    public void SmallLongformerClassifierRuns4096Tokens()
    {
        string dir = Path.Combine(_root, "small");
        var run = MakeRandomRun.Run("make-random", "--shape", "longformer-small-4096", "--labels", "2", "--output", dir, "--vocab-from", MakeRandomRun.VocabFolder);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var model = TransformerModel.Load(dir, new LoadOptions { Threads = 2 });
        Assert.Equal(4096, model.MaxLength);
        Assert.True(model.HasClassifier);
        var text = string.Join(" ", Enumerable.Repeat("a witty and gorgeous movie", 2000)); // far over 4,096 tokens: truncated
        var c = model.Classify([new TextInput(text) { GlobalAttention = [0, 100] }])[0];
        Assert.All(c.Logits, v => Assert.True(float.IsFinite(v)));
    }
}
