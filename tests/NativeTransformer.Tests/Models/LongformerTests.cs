using NativeTransformer.Models;
using NativeTransformer.Tokenization;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// Longformer (sliding-window + global attention on the RoBERTa block) against the PyTorch reference in its three
/// global-attention modes: [CLS] global (Hugging Face's classification default), none, and several per row. Token ids
/// exactly; hidden states at mask-1 positions and logits within 1e-4.
/// </summary>
public sealed class LongformerTests(ITestOutputHelper output)
{
    private const string Name = "longformer-mini";
    private const float Tolerance = 1e-4f;

    [Fact]
    public void TokenIdsMatchTheReference()
    {
        using var reference = ReferenceSet.Load(Name);
        using var model = TransformerModel.Load(TestPaths.Model(Name), new LoadOptions { Threads = 2 });
        Assert.Equal(1025, model.Config.MaxSequenceLength); // max_position_embeddings 1026 − pad 0 − 1
        var batch = reference.Batch();
        var ids = reference.Long("input_ids");
        for (int r = 0; r < batch.BatchSize; r++)
        {
            var e = model.Tokenizer.Encode(reference.Inputs[r].Text, reference.Inputs[r].TextPair, reference.MaxLength);
            Assert.Equal(batch.Lengths[r], e.Length);
            for (int t = 0; t < e.Length; t++) Assert.Equal(ids[r * batch.SeqLen + t], e.Ids[t]);
        }
    }

    [Theory]
    [InlineData("", null)]              // global_attention_mask absent: the classifier's default, [CLS]
    [InlineData("", "global_attention_mask")]
    [InlineData("noglobal.", "noglobal.global_attention_mask")]
    [InlineData("multiglobal.", "multiglobal.global_attention_mask")]
    public void MatchesPyTorchInEveryGlobalMode(string prefix, string? maskKey)
    {
        using var reference = ReferenceSet.Load(Name);
        using var model = TransformerModel.Load(TestPaths.Model(Name), new LoadOptions { Threads = 2 });
        var batch = reference.Batch();
        if (maskKey is not null) batch = batch with { GlobalAttention = Array.ConvertAll(reference.Long(maskKey), v => (int)v) };
        var result = model.Encode(batch);
        var mask = reference.Long("attention_mask");
        int h = model.Config.HiddenSize, checkedStates = 0;
        for (int l = 0; l < result.HiddenStates.Length; l++)
        {
            string key = l == 0 ? "hidden_states.0" : $"{prefix}hidden_states.{l}";
            if (!reference.Has(key)) continue;
            float d = Diff.MaxAbsMasked(reference.Float(key), result.HiddenStates[l], mask, h);
            // Padded positions too: Hugging Face gives padded queries attention output 0, and so do we.
            float all = Diff.MaxAbs(reference.Float(key), result.HiddenStates[l]);
            output.WriteLine($"{key}: max|diff| = {d:E2} (mask-1 positions), {all:E2} (all positions)");
            Assert.True(d < Tolerance, $"{key}: max|diff| {d} ≥ {Tolerance}");
            Assert.True(all < Tolerance, $"{key} at padded positions: max|diff| {all} ≥ {Tolerance}");
            checkedStates++;
        }
        Assert.Equal(3, checkedStates);
        float dl = Diff.MaxAbs(reference.Float($"{prefix}logits"), result.Logits);
        output.WriteLine($"{prefix}logits: max|diff| = {dl:E2}");
        Assert.True(dl < Tolerance, $"{prefix}logits: max|diff| {dl} ≥ {Tolerance}");
    }

    /// <summary>The three modes give different results (the global attention is really applied).</summary>
    [Fact]
    public void GlobalModesDiffer()
    {
        using var reference = ReferenceSet.Load(Name);
        Assert.True(Diff.MaxAbs(reference.Float("logits"), reference.Float("noglobal.logits")) > 1e-3f);
        using var model = TransformerModel.Load(TestPaths.Model(Name), new LoadOptions { Threads = 2, GlobalAttention = GlobalAttentionDefault.None });
        var none = model.Encode(reference.Batch());
        Assert.True(Diff.MaxAbs(reference.Float("noglobal.logits"), none.Logits) < Tolerance); // LoadOptions.GlobalAttention = None
    }

    [Fact]
    public void BadGlobalFlagsAreInputErrors()
    {
        using var reference = ReferenceSet.Load(Name);
        using var model = TransformerModel.Load(TestPaths.Model(Name), new LoadOptions { Threads = 2 });
        var batch = reference.Batch();
        Assert.Throws<InputException>(() => model.Encode(batch with { GlobalAttention = [1, 0] }));
        var two = new int[batch.BatchSize * batch.SeqLen]; two[0] = 2;
        Assert.Throws<InputException>(() => model.Encode(batch with { GlobalAttention = two }));
    }
}

/// <summary>Hostile Longformer configs and checkpoints: typed errors naming the key at fault.</summary>
public sealed class LongformerConfigTests
{
    private static string Config(string window, int layers = 2) =>
        $$"""{"model_type":"longformer","vocab_size":100,"hidden_size":16,"num_hidden_layers":{{layers}},"num_attention_heads":2,"intermediate_size":32,"max_position_embeddings":66,"pad_token_id":1{{window}}}""";

    [Theory]
    [InlineData(",\"attention_window\":512", new[] { 512, 512 })]
    [InlineData(",\"attention_window\":[2,64]", new[] { 2, 64 })]
    public void WindowIsAnIntOrOnePerLayer(string window, int[] expected)
    {
        var c = ModelConfig.Parse(Config(window));
        Assert.Equal(ModelFamily.Longformer, c.Family);
        Assert.Equal(expected, c.Longformer!.AttentionWindow);
        Assert.Equal(expected[1] / 2, c.Longformer.OneSidedWindow(1));
        Assert.True(c.PositionsFromPadding);
        Assert.Equal(64, c.MaxSequenceLength); // 66 − pad 1 − 1
        Assert.Equal([expected[1]], c.KeepLayers([1]).Longformer!.AttentionWindow); // windows follow dropped layers
    }

    [Theory]
    [InlineData("", "\"attention_window\" is missing")]
    [InlineData(",\"attention_window\":null", "\"attention_window\" is missing")]
    [InlineData(",\"attention_window\":127", "odd")]
    [InlineData(",\"attention_window\":0", "must be positive")]
    [InlineData(",\"attention_window\":-128", "must be positive")]
    [InlineData(",\"attention_window\":[128]", "has 1 entries but num_hidden_layers is 2")]
    [InlineData(",\"attention_window\":[128,128,128]", "has 3 entries")]
    [InlineData(",\"attention_window\":[128,7]", "\"attention_window[1]\" 7 is odd")]
    [InlineData(",\"attention_window\":[128,\"x\"]", "attention_window[1]")]
    [InlineData(",\"attention_window\":1.5", "expected an even positive integer")]
    [InlineData(",\"attention_window\":\"128\"", "is a String")]
    [InlineData(",\"attention_window\":4294967296", "expected an even positive integer")]
    [InlineData(",\"attention_window\":1048576", "absurdly large")]
    public void HostileWindowsAreRefused(string window, string message)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(Config(window)));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MissingGlobalProjectionIsAWeightErrorWithItsFullKey()
    {
        using var folder = TempModelFolder.CopyOf("longformer-mini");
        string key = "longformer.encoder.layer.1.attention.self.key_global.weight";
        CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name == key ? null : CheckpointEditor.Keep(info, data));
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
    }
}

/// <summary>Global attention through the public API and `ntr encode`, and Longformer = full attention when nothing is local.</summary>
public sealed class LongformerUsageTests(ITestOutputHelper output)
{
    private const string Name = "longformer-mini";

    [Fact]
    public void TextInputPositionsEqualTheReferenceMasks()
    {
        using var reference = ReferenceSet.Load(Name);
        using var model = TransformerModel.Load(TestPaths.Model(Name), new LoadOptions { Threads = 2 });
        var inputs = reference.Inputs.Select((t, i) => t with { GlobalAttention = MultiglobalPositions(i) }).ToArray();
        var result = model.Encode(inputs);
        Assert.Equal(Array.ConvertAll(reference.Long("multiglobal.global_attention_mask"), v => (int)v), result.Batch.GlobalAttention);
        float d = Diff.MaxAbs(reference.Float("multiglobal.logits"), result.Logits);
        Assert.True(d < 1e-4f, $"multiglobal logits: {d}");
        // Classify runs the same positions (batched by length: the rows are reordered internally).
        var classified = model.Classify(inputs);
        for (int r = 0; r < inputs.Length; r++)
            Assert.True(Diff.MaxAbs(reference.Float("multiglobal.logits").AsSpan(r * 2, 2), classified[r].Logits) < 1e-4f);
        var outside = inputs[0] with { GlobalAttention = [40] }; // row 0 has 40 tokens: 0..39
        Assert.Contains("position 40 is outside its 40 tokens", Assert.Throws<InputException>(() => model.Encode([outside])).Message);
    }

    private static int[] MultiglobalPositions(int item)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Reference(Name), "public.json")));
        return doc.RootElement.GetProperty("items")[item].GetProperty("multiglobal_positions").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    [Fact]
    public void OtherFamiliesRefuseGlobalPositions()
    {
        using var model = TransformerModel.Load(TestPaths.Model("bert-tiny-sst2"));
        var e = Assert.Throws<InputException>(() => model.Classify([new TextInput("fine") { GlobalAttention = [0] }]));
        Assert.Contains("Longformer models only", e.Message);
    }

    [Fact]
    public void NtrEncodeWritesTheGlobalAttentionItRan()
    {
        using var tmp = new NativeTransformer.Tests.Cli.TempDir();
        string input = tmp.Write("in.json", """[{"text": "a gorgeous movie", "global_attention": [0, 2]}, {"text": "dull"}]""");
        string outPath = tmp.File("out.safetensors");
        var run = NativeTransformer.Tests.Cli.CliRunner.Run("encode", "--model", TestPaths.Model(Name), "--input", input, "--output", outPath, "--threads", "1");
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var file = NativeTransformer.Weights.SafetensorsFile.Open(outPath);
        Assert.Equal(new long[] { 1, 0, 1, 0, 0, 1, 0, 0, 0, 0 }, file.GetInt64("global_attention_mask")); // row 1: the default [CLS]
    }

    /// <summary>
    /// With a window covering the whole sequence and no global token, Longformer is RoBERTa's full attention: the same
    /// folder relabelled model_type roberta (its global projections then unused) gives the same hidden states at mask-1
    /// positions (padded positions differ by design: Longformer gives padded queries no attention).
    /// </summary>
    [Fact]
    public void WholeWindowWithoutGlobalsEqualsFullAttention()
    {
        using var reference = ReferenceSet.Load(Name);
        using var folder = TempModelFolder.CopyOf(Name);
        string config = File.ReadAllText(folder.FilePath("config.json"));
        File.WriteAllText(folder.FilePath("config.json"), config.Replace("\"attention_window\": [\n    128,\n    128\n  ]", "\"attention_window\": 2048"));
        Assert.Equal(2048, ModelConfig.Load(folder.FilePath("config.json")).Longformer!.AttentionWindow[0]);
        var batch = reference.Batch();
        float[][] banded, full;
        using (var longformer = TransformerModel.Load(folder.Path, new LoadOptions { Threads = 2, GlobalAttention = GlobalAttentionDefault.None }))
            banded = longformer.Encode(batch).HiddenStates;
        File.WriteAllText(folder.FilePath("config.json"), File.ReadAllText(folder.FilePath("config.json"))
            .Replace("\"model_type\": \"longformer\"", "\"model_type\": \"roberta\""));
        File.Move(folder.FilePath("model.safetensors"), folder.FilePath("tmp.safetensors"));
        CheckpointEditorRename(folder);
        using (var roberta = TransformerModel.Load(folder.Path, new LoadOptions { Threads = 2 }))
        {
            Assert.Equal(ModelFamily.Roberta, roberta.Config.Family);
            full = roberta.Encode(batch).HiddenStates;
        }
        var mask = reference.Long("attention_mask");
        for (int l = 1; l < full.Length; l++)
        {
            float d = Diff.MaxAbsMasked(full[l], banded[l], mask, 128);
            output.WriteLine($"hidden_states.{l}: window 2048 vs full attention max|diff| = {d:E2}");
            Assert.True(d < 1e-5f, $"hidden_states.{l}: {d}");
        }
        // The real window (128) is not full attention on these 300- and 1,000-token rows.
        Assert.True(Diff.MaxAbsMasked(full[^1], reference.Float("noglobal.hidden_states.2"), mask, 128) > 1e-2f);
    }

    /// <summary>longformer.* keys renamed roberta.* (the classifier keys are the same in both).</summary>
    private static void CheckpointEditorRename(TempModelFolder folder)
    {
        string from = folder.FilePath("tmp.safetensors");
        var tensors = new List<NativeTransformer.Weights.TensorToWrite>();
        using (var file = NativeTransformer.Weights.SafetensorsFile.Open(from))
            foreach (var info in file.Tensors)
                tensors.Add(new(info.Name.Replace("longformer.", "roberta."), info.DType, info.Shape, file.GetBytes(info.Name).ToArray()));
        NativeTransformer.Weights.SafetensorsWriter.Write(folder.FilePath("model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        File.Delete(from);
    }
}

/// <summary>`weights-tools quantize --int8` stores the global projections int8 too (as PyTorch's dynamic int8 quantizes all
/// 36 attention Linears); the folder loads and classifies like fp32.</summary>
public sealed class LongformerQuantizeTests
{
    [Fact]
    public void QuantizedFolderStoresGlobalProjectionsInt8AndAgreesWithFp32()
    {
        using var tmp = new NativeTransformer.Tests.Cli.TempDir();
        string dir = tmp.File("q");
        var run = NativeTransformer.Tests.WeightsTools.MakeRandomRun.Run("quantize", TestPaths.Model("longformer-mini"), "--output", dir, "--int8");
        Assert.True(run.ExitCode == 0, run.Stderr);
        using (var file = NativeTransformer.Weights.SafetensorsFile.Open(Path.Combine(dir, "model.safetensors")))
            Assert.Equal(NativeTransformer.Weights.DType.I8, file.GetInfo("longformer.encoder.layer.1.attention.self.value_global.weight").DType);
        using var reference = ReferenceSet.Load("longformer-mini");
        using var model = TransformerModel.Load(dir, new LoadOptions { Threads = 2 });
        var logits = model.Encode(reference.Batch()).Logits!;
        var expected = reference.Float("logits");
        Assert.True(Diff.MaxAbs(expected, logits) < 0.1f, $"int8 logits {string.Join(", ", logits)} vs fp32 {string.Join(", ", expected)}");
        for (int r = 0; r < 3; r++) Assert.Equal(expected[2 * r] < expected[2 * r + 1], logits[2 * r] < logits[2 * r + 1]);
    }
}
