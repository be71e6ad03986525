using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using NativeTransformer.Compression;
using NativeTransformer.Tests.Models;
using NativeTransformer.Tests.WeightsTools;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Compression;

/// <summary>
/// Structured pruning of real folders. The equivalence tests first ZERO heads and neurons in a copy (a zeroed head's output
/// columns make its context contribute nothing; a zeroed neuron with W1 row, b1 entry and W2 column 0 gives GELU(0)·0 = 0),
/// so those are the least important ones and removing them must not change any output.
/// </summary>
public sealed class StructuredPruneFolderTests : IDisposable
{
    private static readonly TextInput[] Texts = [new("a gorgeous, witty, seductive movie."), new("the plot is nothing but boilerplate", "and it drags")];

    private readonly string _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "nt-struct-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private string Out(string name) => Path.Combine(_root, name);

    private static float[] Floats(ReadOnlyMemory<byte> bytes) => MemoryMarshal.Cast<byte, float>(bytes.Span).ToArray();

    /// <summary>Zeroes, per layer key prefix, the heads (query/key/value rows and biases, output columns) and neurons given.</summary>
    private static void Zero(string folder, int headSize, int hidden, Dictionary<string, (int[] Heads, int[] Neurons)> byLayer,
        (string Q, string K, string V, string O, string In, string Out) names)
    {
        CheckpointEditor.Rewrite(folder, (info, data) =>
        {
            foreach (var (prefix, (heads, neurons)) in byLayer)
            {
                if (!info.Name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                string rest = info.Name[prefix.Length..];
                var v = Floats(data);
                bool weight = rest.EndsWith(".weight");
                string module = rest[..rest.LastIndexOf('.')];
                int cols = info.Shape.Length == 2 ? (int)info.Shape[1] : 1;
                IEnumerable<int> headRows = heads.SelectMany(j => Enumerable.Range(j * headSize, headSize));
                if (module == names.Q || module == names.K || module == names.V)
                    foreach (int r in headRows) v.AsSpan(r * cols, cols).Clear();
                else if (module == names.O && weight)
                    for (int r = 0; r < hidden; r++) foreach (int c in headRows) v[r * cols + c] = 0;
                else if (module == names.In)
                    foreach (int n in neurons) v.AsSpan(n * cols, cols).Clear();
                else if (module == names.Out && weight)
                    for (int r = 0; r < hidden; r++) foreach (int n in neurons) v[r * cols + n] = 0;
                else continue;
                return TensorToWrite.FromFloat32(info.Name, info.Shape, v);
            }
            return CheckpointEditor.Keep(info, data);
        });
    }

    private static void AssertSameOutputs(string expectedDir, string actualDir, LoadOptions? options = null)
    {
        options = (options ?? new LoadOptions()) with { Threads = 1 };
        using var expected = TransformerModel.Load(expectedDir, options);
        using var actual = TransformerModel.Load(actualDir, options);
        var a = expected.Encode(Texts);
        var b = actual.Encode(Texts);
        Assert.Equal(a.HiddenStates.Length, b.HiddenStates.Length);
        for (int i = 0; i < a.HiddenStates.Length; i++)
            for (int j = 0; j < a.HiddenStates[i].Length; j++)
                Assert.True(Math.Abs(a.HiddenStates[i][j] - b.HiddenStates[i][j]) <= 1e-5, $"hidden state {i}[{j}]: {a.HiddenStates[i][j]} vs {b.HiddenStates[i][j]}");
        for (int j = 0; j < a.Logits!.Length; j++) Assert.Equal(a.Logits[j], b.Logits![j], 1e-5);
    }

    private static JsonObject Config(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();

    [Fact]
    public void BertPruningZeroedHeadsAndNeuronsChangesNoOutput()
    {
        // bert-tiny: 2 layers, 2 heads of 64, intermediate 512. Layer 0 loses head 1, layer 1 head 0; 256 neurons each.
        using var zeroed = TempModelFolder.CopyOf("bert-tiny-sst2");
        int[] odd = Enumerable.Range(0, 256).Select(i => 2 * i + 1).ToArray(), low = Enumerable.Range(0, 256).ToArray();
        Zero(zeroed.Path, 64, 128, new()
        {
            ["bert.encoder.layer.0."] = ([1], odd),
            ["bert.encoder.layer.1."] = ([0], low),
        }, ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"));

        string dst = Out("bert");
        var run = MakeRandomRun.Run("prune", zeroed.Path, "--output", dst, "--heads", "0.5", "--ffn", "0.5");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("heads 4 -> 2, intermediate 512 -> 256", run.Stdout);

        var config = Config(dst);
        Assert.Equal(256, (int)config["intermediate_size"]!);
        Assert.Equal(2, (int)config["num_attention_heads"]!);  // unchanged: HF keeps it and subtracts pruned_heads
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"0":[1],"1":[0]}"""), config["pruned_heads"]));
        using (var weights = Checkpoint.Open(dst))
        {
            Assert.Equal([64L, 128], weights.Tensors.Single(t => t.Name == "bert.encoder.layer.0.attention.self.query.weight").Shape);
            Assert.Equal([64L], weights.Tensors.Single(t => t.Name == "bert.encoder.layer.1.attention.self.value.bias").Shape);
            Assert.Equal([128L, 64], weights.Tensors.Single(t => t.Name == "bert.encoder.layer.1.attention.output.dense.weight").Shape);
            Assert.Equal([128L], weights.Tensors.Single(t => t.Name == "bert.encoder.layer.1.attention.output.dense.bias").Shape);
            Assert.Equal([256L, 128], weights.Tensors.Single(t => t.Name == "bert.encoder.layer.0.intermediate.dense.weight").Shape);
            Assert.Equal([128L, 256], weights.Tensors.Single(t => t.Name == "bert.encoder.layer.1.output.dense.weight").Shape);
            // Layer 0 kept the even neurons, in order: its new neuron 3 is old neuron 6.
            using var original = Checkpoint.Open(zeroed.Path);
            Assert.Equal(original.GetFloat32("bert.encoder.layer.0.intermediate.dense.weight").Slice(6 * 128, 128).ToArray(),
                weights.GetFloat32("bert.encoder.layer.0.intermediate.dense.weight").Slice(3 * 128, 128).ToArray());
            Assert.Equal("structured", ((SafetensorsFile)weights).Metadata["nt.prune.method"]);
        }
        AssertSameOutputs(zeroed.Path, dst);
        using var model = TransformerModel.Load(dst);
        Assert.Equal(1, model.Config.HeadsInLayer(0));
    }

    /// <summary>
    /// DistilBERT (3 layers, 4 heads of 64, hidden_dim 1024) with a hand-pruned folder: layer 1 lost original head 2
    /// (pruned_heads {"1":[2]}), equal to the original with that head's output columns zeroed. Then the tool prunes a further
    /// head per layer, merging pruned_heads with original indices, and keep-layers works on the unevenly pruned folder.
    /// </summary>
    [Fact]
    public void DistilBertHonoursPrunedHeadsMergesThemAndKeepsLayers()
    {
        string src = TestPaths.Model("distilbert-mini-sst2");
        using var zeroed = TempModelFolder.CopyOf("distilbert-mini-sst2");
        var names = ("attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "ffn.lin1", "ffn.lin2");
        Zero(zeroed.Path, 64, 256, new() { ["distilbert.transformer.layer.1."] = ([2], []) }, names);

        using var handPruned = TempModelFolder.CopyOf("distilbert-mini-sst2");
        var keep = new[] { 0, 1, 3 }.SelectMany(j => Enumerable.Range(j * 64, 64)).ToArray();
        CheckpointEditor.Rewrite(handPruned.Path, (info, data) =>
        {
            const string prefix = "distilbert.transformer.layer.1.attention.";
            if (!info.Name.StartsWith(prefix) || info.Name.StartsWith(prefix + "out_lin.bias")) return CheckpointEditor.Keep(info, data);
            var v = Floats(data);
            if (info.Name.StartsWith(prefix + "out_lin"))
                return TensorToWrite.FromFloat32(info.Name, [256, 192], Enumerable.Range(0, 256).SelectMany(r => keep.Select(c => v[r * 256 + c])).ToArray());
            int cols = info.Shape.Length == 2 ? 256 : 1;
            return TensorToWrite.FromFloat32(info.Name, cols == 1 ? [192] : [192, 256], keep.SelectMany(r => v.Skip(r * cols).Take(cols)).ToArray());
        });
        var config = Config(src);
        config["pruned_heads"] = JsonNode.Parse("""{"1":[2]}""");
        handPruned.Write("config.json", config.ToJsonString());

        AssertSameOutputs(zeroed.Path, handPruned.Path);
        AssertSameOutputs(zeroed.Path, handPruned.Path, new LoadOptions { KeepLayers = [1, 2] });
        using (var reduced = TransformerModel.Load(handPruned.Path, new LoadOptions { KeepLayers = [1, 2] }))
        {
            Assert.Equal(3, reduced.Config.HeadsInLayer(0)); // original layer 1 keeps its own head count
            Assert.Equal(4, reduced.Config.HeadsInLayer(1));
        }

        string dst = Out("distil");
        var result = StructuredPruneFolder.Run(handPruned.Path, dst, new StructuredPruneOptions(0.34, 0.3));
        Assert.Equal(11, result.HeadsBefore);
        Assert.Equal(8, result.HeadsAfter);            // floor(0.34·4) = floor(0.34·3) = 1 per layer
        Assert.Equal(704, result.IntermediateAfter);   // 1024 - 307 = 717 → nearest multiple of 32
        var written = Config(dst);
        Assert.Equal(704, (int)written["hidden_dim"]!);
        var pruned = written["pruned_heads"]!.AsObject();
        Assert.Equal(3, pruned.Count);
        var layer1 = pruned["1"]!.AsArray().Select(n => (int)n!).ToArray();
        Assert.Equal(2, layer1.Length);
        Assert.Contains(2, layer1);                    // the earlier pruning, merged
        Assert.Equal(layer1.Order(), layer1);
        Assert.Equal(result.RemovedHeads[1].Single(), layer1.Single(x => x != 2)); // the new one, as an original index
        using var model = TransformerModel.Load(dst, new LoadOptions { Threads = 1 });
        Assert.All(Enumerable.Range(0, 3), l => Assert.Equal(l == 1 ? 2 : 3, model.Config.HeadsInLayer(l)));
        Assert.Equal(2, model.Classify(["fine"])[0].Logits.Length);
    }

    [Fact]
    public void AlbertPrunesItsSharedGroup()
    {
        string dst = Out("albert");
        var result = StructuredPruneFolder.Run(TestPaths.Model("albert-mini-sst2"), dst, new StructuredPruneOptions(0.25, 0.5));
        Assert.Equal([0], result.PrunedHeads.Keys);     // one shared group: HF's ALBERT key is the group index
        Assert.Equal(512, result.IntermediateAfter);
        using var weights = Checkpoint.Open(dst);
        Assert.Equal([192L, 256], weights.Tensors.Single(t => t.Name.EndsWith("albert_layers.0.attention.query.weight")).Shape);
        using var model = TransformerModel.Load(dst, new LoadOptions { Threads = 1 });
        Assert.Equal(3, model.Config.HeadsInLayer(0));
        Assert.Equal(2, model.Classify(["fine"])[0].Logits.Length);
    }

    [Fact]
    public void CommandErrors()
    {
        string src = TestPaths.Model("bert-tiny-sst2");
        var mixed = MakeRandomRun.Run("prune", src, "--output", Out("x"), "--heads", "0.5", "--sparsity", "0.5");
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("cannot be combined", mixed.Stderr);
        var bad = MakeRandomRun.Run("prune", src, "--output", Out("y"), "--ffn", "1");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--ffn must be a number in [0, 1)", bad.Stderr);
        Assert.False(Directory.Exists(Out("x")) || Directory.Exists(Out("y")));
        var ffnOnly = MakeRandomRun.Run("prune", src, "--output", Out("z"), "--ffn", "0.25");
        Assert.True(ffnOnly.ExitCode == 0, ffnOnly.Stderr);
        Assert.False(Config(Out("z")).ContainsKey("pruned_heads"));
        Assert.Equal(384, (int)Config(Out("z"))["intermediate_size"]!);
    }
}
