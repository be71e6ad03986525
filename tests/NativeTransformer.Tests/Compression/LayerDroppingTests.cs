using System.Text.Json.Nodes;
using NativeTransformer.Compression;
using NativeTransformer.Models;
using NativeTransformer.Tests.Cli;
using NativeTransformer.Tests.Models;
using NativeTransformer.Tests.WeightsTools;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Compression;

public sealed class LayerSelectionTests
{
    [Fact]
    public void NoOptionKeepsEverything() => Assert.Null(LayerSelection.Resolve(4)!);

    [Fact]
    public void ExplicitList() => Assert.Equal([0, 1, 3], LayerSelection.Resolve(4, keep: [0, 1, 3])!);

    [Fact]
    public void DropTop()
    {
        Assert.Equal([0, 1, 2], LayerSelection.Resolve(4, dropTop: 1)!);
        Assert.Equal([0], LayerSelection.Resolve(4, dropTop: 3)!);
        Assert.Equal([0, 1, 2, 3], LayerSelection.Resolve(4, dropTop: 0)!);
    }

    [Fact]
    public void DropEvery()
    {
        Assert.Equal([0, 2, 4], LayerSelection.Resolve(6, dropEvery: 2)!);
        Assert.Equal([0, 1, 3, 4, 6], LayerSelection.Resolve(7, dropEvery: 3)!);
        Assert.Equal([0, 1, 2, 3], LayerSelection.Resolve(4, dropEvery: 5)!);
    }

    [Theory]
    [InlineData(new[] { 0, 4 }, null, null, "out of range")]
    [InlineData(new[] { -1 }, null, null, "out of range")]
    [InlineData(new[] { 1, 1 }, null, null, "twice")]
    [InlineData(new[] { 2, 1 }, null, null, "ascending")]
    [InlineData(new int[0], null, null, "at least one")]
    [InlineData(null, 4, null, "drop all")]
    [InlineData(null, -1, null, "drop-top")]
    [InlineData(null, null, 1, "drop all")]
    [InlineData(null, null, 0, "drop-every")]
    [InlineData(new[] { 0 }, 1, null, "one of")]
    [InlineData(null, 1, 2, "one of")]
    public void BadSelectionsAreInputErrors(int[]? keep, int? dropTop, int? dropEvery, string message)
    {
        var e = Assert.Throws<InputException>(() => LayerSelection.Resolve(4, keep, dropTop, dropEvery)!);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ParseList()
    {
        Assert.Equal([0, 1, 3], LayerSelection.ParseList("0,1,3"));
        Assert.Equal([2], LayerSelection.ParseList(" 2 "));
        Assert.Throws<InputException>(() => LayerSelection.ParseList("0,,1"));
        Assert.Throws<InputException>(() => LayerSelection.ParseList("a"));
        Assert.Throws<InputException>(() => LayerSelection.ParseList("-1"));
    }
}

public sealed class LayerDroppingTests : IDisposable
{
    private static readonly TextInput[] Texts =
    [
        new("a gorgeous, witty, seductive movie."), new("the plot is nothing but boilerplate", "and it drags"), new(""),
    ];

    private readonly string _root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "nt-drop-layers-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private string Out(string name) => Path.Combine(_root, name);

    private static void AssertSameEncode(string reducedDir, string originalDir, LoadOptions loadTime, int expectedLayers)
    {
        using var reduced = TransformerModel.Load(reducedDir, new LoadOptions { Threads = 1 });
        using var viaOption = TransformerModel.Load(originalDir, loadTime with { Threads = 1 });
        Assert.Equal(expectedLayers, reduced.Config.NumLayers);
        Assert.Equal(expectedLayers, viaOption.Config.NumLayers);
        var a = reduced.Encode(Texts);
        var b = viaOption.Encode(Texts);
        Assert.Equal(expectedLayers + 1, a.HiddenStates.Length);
        Assert.Equal(a.HiddenStates.Length, b.HiddenStates.Length);
        for (int i = 0; i < a.HiddenStates.Length; i++) Assert.Equal(a.HiddenStates[i], b.HiddenStates[i]);
        Assert.Equal(a.PoolerOutput, b.PoolerOutput);
        Assert.Equal(a.Logits, b.Logits);
    }

    [Fact]
    public void BertKeep013EqualsLoadTimeKeepLayers()
    {
        string src = TestPaths.Model("bert-mini-sst2"), dst = Out("bert");
        var run = MakeRandomRun.Run("drop-layers", src, "--output", dst, "--keep", "0,1,3");
        Assert.True(run.ExitCode == 0, run.Stderr);
        AssertSameEncode(dst, src, new LoadOptions { KeepLayers = [0, 1, 3] }, 3);

        // The reduced checkpoint holds layers 0..2 only; its layer 2 is the original layer 3, byte for byte.
        using var original = Checkpoint.Open(src);
        using var reduced = Checkpoint.Open(dst);
        Assert.DoesNotContain(reduced.Tensors, t => t.Name.Contains("encoder.layer.3."));
        Assert.Equal(original.Tensors.Count - original.Tensors.Count(t => t.Name.Contains("encoder.layer.2.")), reduced.Tensors.Count);
        foreach (var t in original.Tensors.Where(t => t.Name.Contains("encoder.layer.3.")))
            Assert.True(reduced.GetBytes(t.Name.Replace("encoder.layer.3.", "encoder.layer.2.")).SequenceEqual(original.GetBytes(t.Name)), t.Name);
        foreach (var t in original.Tensors.Where(t => !t.Name.Contains("encoder.layer.")))
            Assert.True(reduced.GetBytes(t.Name).SequenceEqual(original.GetBytes(t.Name)), t.Name);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dst, "config.json")))!.AsObject();
        var before = JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!.AsObject();
        Assert.Equal(3, (int)config["num_hidden_layers"]!);
        before["num_hidden_layers"] = 3;
        Assert.True(JsonNode.DeepEquals(before, config));
        foreach (var f in new[] { "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(src, f)), File.ReadAllBytes(Path.Combine(dst, f)));
    }

    [Fact]
    public void HeadPrunedFolderKeepsEachLayersPrunedHeadsWhenDropped()
    {
        string src = TestPaths.Model("bert-mini-sst2"), pruned = Out("pruned"), dst = Out("pruned-dropped");
        var prune = MakeRandomRun.Run("prune", src, "--output", pruned, "--heads", "0.25");
        Assert.True(prune.ExitCode == 0, prune.Stderr);
        var run = MakeRandomRun.Run("drop-layers", pruned, "--output", dst, "--keep", "1,3");
        Assert.True(run.ExitCode == 0, run.Stderr);
        AssertSameEncode(dst, pruned, new LoadOptions { KeepLayers = [1, 3] }, 2);
        var before = ModelConfig.Load(Path.Combine(pruned, "config.json"));
        var after = ModelConfig.Load(Path.Combine(dst, "config.json"));
        Assert.Equal(before.PrunedHeads[1], after.PrunedHeads[0]);
        Assert.Equal(before.PrunedHeads[3], after.PrunedHeads[1]);
        Assert.Equal(2, after.PrunedHeads.Count);
    }

    [Fact]
    public void OutputFolderInsideTheInputIsNotCopiedIntoItself()
    {
        using var model = TempModelFolder.CopyOf("bert-tiny-sst2");
        model.Write("1_Pooling/config.json", "{}");
        string src = model.Path, dst = Path.Combine(src, "reduced");
        var run = MakeRandomRun.Run("drop-layers", src, "--output", dst, "--drop-top", "1");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.True(File.Exists(Path.Combine(dst, "1_Pooling", "config.json")));
        Assert.False(Directory.Exists(Path.Combine(dst, "reduced")));
    }

    [Fact]
    public void DistilBertDropTopEqualsLoadTimeDropTop()
    {
        string src = TestPaths.Model("distilbert-mini-sst2"), dst = Out("distil");
        var run = MakeRandomRun.Run("drop-layers", src, "--output", dst, "--drop-top", "1");
        Assert.True(run.ExitCode == 0, run.Stderr);
        int layers = (int)JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!["n_layers"]!;
        Assert.Equal(layers - 1, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(dst, "config.json")))!["n_layers"]!);
        AssertSameEncode(dst, src, new LoadOptions { DropTopLayers = 1 }, layers - 1);
        using var reduced = Checkpoint.Open(dst);
        Assert.DoesNotContain(reduced.Tensors, t => t.Name.Contains($"transformer.layer.{layers - 1}."));
    }

    [Fact]
    public void AlbertOnlyTheConfigChanges()
    {
        string src = TestPaths.Model("albert-mini-sst2"), dst = Out("albert");
        var run = MakeRandomRun.Run("drop-layers", src, "--output", dst, "--keep", "0,1,3");
        Assert.True(run.ExitCode == 0, run.Stderr);
        AssertSameEncode(dst, src, new LoadOptions { KeepLayers = [0, 1, 3] }, 3);
        using var original = Checkpoint.Open(src);
        using var reduced = Checkpoint.Open(dst);
        Assert.Equal(original.Tensors.Select(t => t.Name).Order(), reduced.Tensors.Select(t => t.Name).Order());
    }

    [Fact]
    public void SentenceTransformersFilesAndModuleFoldersAreCopied()
    {
        // bert-mini-sst2 weights dressed as a sentence-transformers folder (all-MiniLM-L6-v2's module files).
        string st = TestPaths.Model("all-MiniLM-L6-v2"), src = Out("st-src"), dst = Out("st-dst");
        Directory.CreateDirectory(Path.Combine(src, "1_Pooling"));
        foreach (var f in Directory.EnumerateFiles(TestPaths.Model("bert-mini-sst2"))) File.Copy(f, Path.Combine(src, Path.GetFileName(f)));
        foreach (var f in new[] { "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json" })
            File.Copy(Path.Combine(st, f), Path.Combine(src, f));
        File.Copy(Path.Combine(st, "1_Pooling", "config.json"), Path.Combine(src, "1_Pooling", "config.json"));
        var run = MakeRandomRun.Run("drop-layers", src, "--output", dst, "--drop-every", "2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        foreach (var f in new[] { "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", Path.Combine("1_Pooling", "config.json") })
            Assert.Equal(File.ReadAllBytes(Path.Combine(src, f)), File.ReadAllBytes(Path.Combine(dst, f)));
        AssertSameEncode(dst, src, new LoadOptions { KeepLayers = [0, 2] }, 2);
    }

    [Fact]
    public void LoadTimeSelectionNeverReadsDroppedLayers()
    {
        // A checkpoint without layer 3's tensors still loads when layer 3 is dropped at load.
        string src = TestPaths.Model("bert-mini-sst2"), dst = Out("no-layer-3");
        Directory.CreateDirectory(dst);
        foreach (var f in Directory.EnumerateFiles(src).Where(f => !f.EndsWith(".safetensors")))
            File.Copy(f, Path.Combine(dst, Path.GetFileName(f)));
        using (var original = Checkpoint.Open(src))
            SafetensorsWriter.Write(Path.Combine(dst, "model.safetensors"), original.Tensors.Where(t => !t.Name.Contains("encoder.layer.3."))
                .Select(t => TensorToWrite.FromBytes(t.Name, t.DType, t.Shape, original.GetBytes(t.Name))).ToList());
        using var model = TransformerModel.Load(dst, new LoadOptions { DropTopLayers = 1, Threads = 1 });
        Assert.Equal(3, model.Config.NumLayers);
        Assert.Throws<WeightException>(() => TransformerModel.Load(dst, new LoadOptions { Threads = 1 }));
    }

    [Fact]
    public void BadLoadOptionsAreInputErrors()
    {
        string src = TestPaths.Model("bert-mini-sst2");
        Assert.Throws<InputException>(() => TransformerModel.Load(src, new LoadOptions { KeepLayers = [0], DropTopLayers = 1 }));
        Assert.Contains("out of range", Assert.Throws<InputException>(() => TransformerModel.Load(src, new LoadOptions { KeepLayers = [0, 9] })).Message);
        Assert.Throws<InputException>(() => TransformerModel.Load(src, new LoadOptions { DropTopLayers = 4 }));
    }

    [Theory]
    [InlineData(2, "--output", "X", "--keep", "0,1", "--drop-top", "1")]
    [InlineData(2, "--keep", "0,1")]
    [InlineData(2, "--output", "X")]
    [InlineData(2, "--output", "X", "--keep", "a,b")]
    [InlineData(2, "--output", "X", "--drop-top", "0")]
    [InlineData(2, "--output", "X", "--drop-every", "1")]
    [InlineData(2, "--output", "X", "--bogus", "1")]
    [InlineData(1, "--output", "X", "--keep", "0,7")]
    [InlineData(1, "--output", "X", "--drop-top", "4")]
    public void BadArgumentsGiveClearErrors(int code, params string[] args)
    {
        var full = new[] { "drop-layers", TestPaths.Model("bert-mini-sst2") }.Concat(args.Select(a => a == "X" ? Out("bad") : a)).ToArray();
        var run = MakeRandomRun.Run(full);
        Assert.Equal(code, run.ExitCode);
        Assert.StartsWith("weights-tools: error: ", run.Stderr);
        Assert.False(Directory.Exists(Out("bad")) && Directory.EnumerateFileSystemEntries(Out("bad")).Any());
    }

    [Fact]
    public void UnwritableOutputFailsUpFrontWithItsPathAndLeavesNothing()
    {
        string file = Out("a-file");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "x");
        foreach (string bad in new[] { Path.Combine(file, "sub", "out"), "/proc/ntr-no-such-output" })
        {
            var run = MakeRandomRun.Run(["drop-layers", TestPaths.Model("bert-mini-sst2"), "--output", bad, "--drop-top", "1"]);
            Assert.Equal(1, run.ExitCode);
            Assert.StartsWith($"weights-tools: error: {bad}: the output folder is not writable (", run.Stderr);
        }
        string fresh = Path.Combine(Out("parent"), "child", "out");
        Assert.Equal(Path.GetFullPath(fresh), global::NativeTransformer.Compression.ModelFolderOutput.Check(TestPaths.Model("bert-mini-sst2"), fresh).Output);
        Assert.False(Directory.Exists(Out("parent")), "the output check must not leave the folders it created to probe");
    }

    [Fact]
    public void RefusesNonEmptyOutput()
    {
        string dst = Out("full");
        Directory.CreateDirectory(dst);
        File.WriteAllText(Path.Combine(dst, "x"), "");
        var run = MakeRandomRun.Run("drop-layers", TestPaths.Model("bert-mini-sst2"), "--output", dst, "--drop-top", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("not empty", run.Stderr);
    }

    [Fact]
    public void CliClassifyWithDropTop()
    {
        string model = TestPaths.Model("bert-mini-sst2");
        var full = CliRunner.RunWithStdin("a gorgeous, witty movie\n", "classify", "--model", model);
        var dropped = CliRunner.RunWithStdin("a gorgeous, witty movie\n", "classify", "--model", model, "--drop-top", "1");
        var kept = CliRunner.RunWithStdin("a gorgeous, witty movie\n", "classify", "--model", model, "--keep-layers", "0,1,2");
        Assert.True(dropped.ExitCode == 0, dropped.Stderr);
        Assert.Single(dropped.StdoutLines);
        Assert.Contains("\"label\"", dropped.Stdout);
        Assert.Equal(dropped.Stdout, kept.Stdout);
        Assert.NotEqual(full.Stdout, dropped.Stdout);
    }

    [Fact]
    public void CliBadLayerOptions()
    {
        string model = TestPaths.Model("bert-mini-sst2");
        CliRunner.Run("classify", "--model", model, "--keep-layers", "x").AssertOneLineError(2, "--keep-layers");
        CliRunner.Run("classify", "--model", model, "--drop-top", "0").AssertOneLineError(2, "--drop-top");
        CliRunner.Run("classify", "--model", model, "--drop-top", "1", "--keep-layers", "0").AssertOneLineError(2, "cannot be combined");
        CliRunner.Run("classify", "--model", model, "--keep-layers", "0,9").AssertOneLineError(1, "out of range");
    }
}
