using System.Text.Json;
using NativeTransformer.Compression;
using NativeTransformer.Models;
using NativeTransformer.Tests.Cli;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// RoBERTa, XLM-R and CamemBERT through the one encoder: config mapping, the length and token-type limits, the masked-LM
/// head, and the folder tools (inspect, memory estimate, quantize, drop-layers, prune) on a RoBERTa folder. Parity with
/// PyTorch is in <see cref="ReferenceParityTests.EncoderOnReferenceIdsMatchesPyTorch"/>.
/// </summary>
public sealed class RobertaFamilyTests(ITestOutputHelper output) : IDisposable
{
    private const string Roberta = "roberta-mini-sst2";
    private readonly string _root = Directory.CreateTempSubdirectory("nt-roberta-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    [InlineData("camembert")]
    public void ModelTypesMapToTheRobertaFamily(string type)
    {
        var c = ModelConfig.Parse($$"""{"model_type":"{{type}}","vocab_size":250002,"hidden_size":768,"num_hidden_layers":12,"num_attention_heads":12,"intermediate_size":3072,"max_position_embeddings":514,"type_vocab_size":1,"layer_norm_eps":1e-5}""");
        Assert.Equal(ModelFamily.Roberta, c.Family);
        Assert.Equal(1, c.PadTokenId);             // RobertaConfig's default
        Assert.True(c.PositionsFromPadding);
        Assert.Equal(512, c.MaxSequenceLength);     // 514 − (1 + 1)
        Assert.Equal(1e-5f, c.LayerNormEps);
        var bert = ModelConfig.Parse("""{"model_type":"bert","vocab_size":30522,"hidden_size":768,"num_hidden_layers":12,"num_attention_heads":12,"intermediate_size":3072,"max_position_embeddings":512}""");
        Assert.False(bert.PositionsFromPadding);
        Assert.Equal(512, bert.MaxSequenceLength);
    }

    [Fact]
    public void MaxLengthLeavesRoomForThePaddingOffset()
    {
        using (var model = IdsOnlyTokenizer.Load(TestPaths.Model(Roberta)))
        {
            Assert.Equal(512, model.MaxLength);
            var e = Assert.Throws<InputException>(() => model.Encode(Batch(model.Config, 513)));
            Assert.Contains("512", e.Message);
            var ok = model.Encode(Batch(model.Config, 512)); // the last position, 1 + 512 = 513, is the table's last row
            Assert.All(ok.HiddenStates[^1], v => Assert.True(float.IsFinite(v)));
        }
        var refused = Assert.Throws<InputException>(() => IdsOnlyTokenizer.Load(TestPaths.Model(Roberta), new LoadOptions { MaxLength = 513 }));
        Assert.Contains("pad_token_id", refused.Message);
    }

    [Fact]
    public void NonZeroTokenTypeIsAnInputError()
    {
        using var reference = ReferenceSet.Load(Roberta);
        using var model = IdsOnlyTokenizer.Load(TestPaths.Model(Roberta));
        var batch = reference.Batch();
        batch.TypeIds[3] = 1; // type_vocab_size is 1: RoBERTa has no second segment embedding
        var e = Assert.Throws<InputException>(() => model.Encode(batch));
        Assert.Contains("type_vocab_size 1", e.Message);
    }

    [Fact]
    public void InconsistentBatchIsAnInputError()
    {
        using var model = IdsOnlyTokenizer.Load(TestPaths.Model(Roberta));
        var good = Batch(model.Config, 4);
        Assert.Throws<InputException>(() => model.Encode(good with { InputIds = [0, 5, 2] }));
        Assert.Throws<InputException>(() => model.Encode(good with { Lengths = [0] }));
        Assert.Throws<InputException>(() => model.Forward(good with { Lengths = [5] }));
    }

    /// <summary>Extra pad columns change neither the positions nor the values of the real tokens.</summary>
    [Fact]
    public void PaddingDoesNotMoveRealTokenPositions()
    {
        using var model = IdsOnlyTokenizer.Load(TestPaths.Model(Roberta), new LoadOptions { Threads = 1 });
        var tight = Batch(model.Config, 6);
        var padded = new EncodedBatch(1, 9, [.. tight.InputIds, 1, 1, 1], new int[9], [1, 1, 1, 1, 1, 1, 0, 0, 0], [6], []);
        var a = model.Encode(tight).HiddenStates;
        var b = model.Encode(padded).HiddenStates;
        int h = model.Config.HiddenSize;
        for (int l = 0; l < a.Length; l++) Assert.Equal(a[l], b[l].AsSpan(0, 6 * h).ToArray());
    }

    /// <summary>
    /// A RobertaForMaskedLM checkpoint (roberta-mini's encoder plus a seeded lm_head, decoder tied and absent from the file):
    /// logits = word_embeddings · LayerNorm(GELU(dense(h))) + lm_head.bias, computed here in double from the reference's last
    /// hidden state.
    /// </summary>
    [Fact]
    public void MaskedLmHeadUsesTheTiedWordEmbeddings()
    {
        using var reference = ReferenceSet.Load(Roberta);
        using var folder = TempModelFolder.CopyOf(Roberta);
        var config = ModelConfig.Load(folder.FilePath("config.json"));
        int h = config.HiddenSize, v = config.VocabSize;
        var rng = new Random(7);
        float[] Values(int n, float scale, float offset = 0) => Enumerable.Range(0, n).Select(_ => offset + scale * (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] dense = Values(h * h, 0.2f), denseBias = Values(h, 0.1f), gamma = Values(h, 0.1f, 1), beta = Values(h, 0.1f), bias = Values(v, 0.5f);
        TensorToWrite T(string name, float[] values, params long[] shape) => TensorToWrite.FromFloat32(name, shape, values);
        CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name.StartsWith("classifier.", StringComparison.Ordinal) ? null : CheckpointEditor.Keep(info, data),
            T("lm_head.dense.weight", dense, h, h), T("lm_head.dense.bias", denseBias, h),
            T("lm_head.layer_norm.weight", gamma, h), T("lm_head.layer_norm.bias", beta, h), T("lm_head.bias", bias, v));

        using var model = IdsOnlyTokenizer.Load(folder.Path, new LoadOptions { Threads = 1 });
        Assert.True(model.HasMaskedLm);
        Assert.False(model.HasClassifier);
        var batch = reference.Batch();
        var row0 = new Encoding(batch.InputIds[..batch.Lengths[0]], new int[batch.Lengths[0]], [], [], [], false);
        int[] positions = [0, 3, row0.Length - 1];
        var ours = model.MaskedLmLogits(row0, positions);

        using var weights = SafetensorsFile.Open(folder.FilePath("model.safetensors"));
        var word = weights.GetFloat32("roberta.embeddings.word_embeddings.weight").ToArray();
        var last = reference.Float($"hidden_states.{config.NumLayers}");
        float worst = 0;
        for (int p = 0; p < positions.Length; p++)
        {
            var x = new double[h];
            for (int o = 0; o < h; o++)
            {
                double s = denseBias[o];
                for (int i = 0; i < h; i++) s += dense[o * h + i] * (double)last[positions[p] * h + i];
                x[o] = 0.5 * s * (1 + Erf(s / Math.Sqrt(2)));
            }
            double mean = x.Average(), variance = x.Select(t => (t - mean) * (t - mean)).Average();
            for (int o = 0; o < h; o++) x[o] = (x[o] - mean) / Math.Sqrt(variance + config.LayerNormEps) * gamma[o] + beta[o];
            for (int t = 0; t < v; t++)
            {
                double s = bias[t];
                for (int i = 0; i < h; i++) s += word[t * h + i] * x[i];
                worst = Math.Max(worst, (float)Math.Abs(s - ours[p][t]));
            }
        }
        output.WriteLine($"RoBERTa masked-LM logits: max|diff| = {worst:E2} over {positions.Length} positions × {v}");
        Assert.True(worst < 1e-4f, $"max|diff| {worst}");
    }

    /// <summary>A checkpoint with roberta.pooler (RobertaModel's add_pooling_layer): it gives pooler_output, and the
    /// classifier still reads the first token through classifier.dense, not the pooler.</summary>
    [Fact]
    public void PoolerServesPoolerOutputOnly()
    {
        using var reference = ReferenceSet.Load(Roberta);
        using var folder = TempModelFolder.CopyOf(Roberta);
        int h = 64;
        var rng = new Random(3);
        var w = Enumerable.Range(0, h * h).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var b = Enumerable.Range(0, h).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        CheckpointEditor.Rewrite(folder.Path, CheckpointEditor.Keep,
            TensorToWrite.FromFloat32("roberta.pooler.dense.weight", [h, h], w), TensorToWrite.FromFloat32("roberta.pooler.dense.bias", [h], b));
        using var model = IdsOnlyTokenizer.Load(folder.Path, new LoadOptions { Threads = 1 });
        Assert.True(model.HasPooler);
        var result = model.Encode(reference.Batch());
        Assert.True(Diff.MaxAbs(reference.Float("logits"), result.Logits) < 1e-4f);
        var last = reference.Float("hidden_states.2");
        int seq = result.Batch.SeqLen;
        for (int r = 0; r < result.Batch.BatchSize; r++)
            for (int o = 0; o < h; o++)
            {
                double s = b[o];
                for (int i = 0; i < h; i++) s += w[o * h + i] * (double)last[r * seq * h + i];
                Assert.True(Math.Abs(Math.Tanh(s) - result.PoolerOutput![r * h + o]) < 1e-4, $"pooler row {r} [{o}]");
            }
    }

    /// <summary>A sentence-transformers / RobertaModel folder stores the same tensors without the "roberta." prefix.</summary>
    [Fact]
    public void BareKeysLoadLikePrefixedOnes()
    {
        using var reference = ReferenceSet.Load(Roberta);
        using var folder = TempModelFolder.CopyOf(Roberta);
        CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name.StartsWith("roberta.", StringComparison.Ordinal)
            ? new TensorToWrite(info.Name["roberta.".Length..], info.DType, info.Shape, data) : null);
        using var model = IdsOnlyTokenizer.Load(folder.Path, new LoadOptions { Threads = 1 });
        Assert.False(model.HasClassifier);
        var hidden = model.Encode(reference.Batch()).HiddenStates;
        var mask = reference.Long("attention_mask");
        Assert.True(Diff.MaxAbsMasked(reference.Float("hidden_states.2"), hidden[2], mask, 64) < 1e-4f);
    }

    [Fact]
    public void InspectListsTheClassifierAndNoPooler()
    {
        using var folder = TempModelFolder.WithWordPieceStandIn(Roberta);
        var summary = TransformerModel.Inspect(folder.Path);
        Assert.Equal("roberta", summary.ModelType);
        Assert.Equal(["classifier (2 labels: negative, positive)"], summary.OutputHeads);
        var run = CliRunner.Run("inspect", "--model", folder.Path, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("RobertaForSequenceClassification", json.RootElement.GetProperty("architecture").GetString());
        Assert.Contains("classifier", json.RootElement.GetProperty("output_heads")[0].GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MemoryEstimateCountsTheLinearsTheLoadBuilds(bool int8)
    {
        using var folder = TempModelFolder.WithWordPieceStandIn(Roberta);
        var options = new LoadOptions { Int8 = int8, BatchSize = 4, MaxLength = 64, Threads = 1 };
        var estimate = TransformerModel.EstimateMemory(folder.Path, options);
        using var model = TransformerModel.Load(folder.Path, options);
        var ops = model.LinearOperators.ToList();
        long Part(string name) => estimate.Parts.Where(p => p.Name == name).Sum(p => p.Bytes);
        Assert.Equal(ops.Where(o => o.Kind != "int8").Sum(o => o.OwnedBytes), Part("fp32 packed Linears"));
        Assert.Equal(ops.Where(o => o.Kind == "int8").Sum(o => o.OwnedBytes), Part("int8 Linears"));
        Assert.True(Part(int8 ? "int8 Linears" : "fp32 packed Linears") > 0);
    }

    [Fact]
    public void QuantizedFolderEqualsLoadTimeInt8()
    {
        string dst = Path.Combine(_root, "q8");
        var report = QuantizeFolder.Run(TestPaths.Model(Roberta), dst, new QuantizeOptions(LinearPrecision.Int8, EmbeddingPrecision.Fp32));
        Assert.Equal(2 * 6, report.Int8Matrices);
        using var reference = ReferenceSet.Load(Roberta);
        using var folder = IdsOnlyTokenizer.Load(dst, new LoadOptions { Threads = 1 });
        using var loadTime = IdsOnlyTokenizer.Load(TestPaths.Model(Roberta), new LoadOptions { Threads = 1, Int8 = true });
        Assert.Equal(loadTime.Encode(reference.Batch()).Logits, folder.Encode(reference.Batch()).Logits);
    }

    /// <summary>drop-layers renames roberta.encoder.layer.N: keeping layer 0 reproduces the reference's first hidden states.</summary>
    [Fact]
    public void DroppedLayerFolderKeepsTheFirstLayersExactly()
    {
        string dst = Path.Combine(_root, "drop");
        var result = LayerDropper.Drop(TestPaths.Model(Roberta), dst, [0]);
        Assert.True(result.TensorsDropped > 0);
        using var reference = ReferenceSet.Load(Roberta);
        using var model = IdsOnlyTokenizer.Load(dst);
        Assert.Equal(1, model.Config.NumLayers);
        var hidden = model.Encode(reference.Batch()).HiddenStates;
        Assert.Equal(2, hidden.Length);
        var mask = reference.Long("attention_mask");
        for (int l = 0; l < 2; l++)
            Assert.True(Diff.MaxAbsMasked(reference.Float($"hidden_states.{l}"), hidden[l], mask, model.Config.HiddenSize) < 1e-4f);
    }

    [Fact]
    public void PrunedFoldersLoad()
    {
        var pruned = PruneFolder.Run(TestPaths.Model(Roberta), Path.Combine(_root, "prune"), new PruneOptions(0.5));
        Assert.Equal(2 * 6, pruned.Count);
        Assert.DoesNotContain(pruned, m => m.Name.StartsWith("classifier", StringComparison.Ordinal));
        StructuredPruneFolder.Run(TestPaths.Model(Roberta), Path.Combine(_root, "structured"), new StructuredPruneOptions(0.5, 0));
        using var reference = ReferenceSet.Load(Roberta);
        foreach (var dir in new[] { "prune", "structured" })
        {
            using var model = IdsOnlyTokenizer.Load(Path.Combine(_root, dir));
            Assert.All(model.Encode(reference.Batch()).Logits!, v => Assert.True(float.IsFinite(v)));
        }
    }

    /// <summary>One row of <paramref name="length"/> tokens: &lt;s&gt; 5 6 … &lt;/s&gt;.</summary>
    private static EncodedBatch Batch(ModelConfig config, int length)
    {
        var ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = 5 + i % (config.VocabSize - 5);
        ids[0] = 0; ids[^1] = 2;
        return new EncodedBatch(1, length, ids, new int[length], Enumerable.Repeat(1, length).ToArray(), [length], []);
    }

    /// <summary>erf from the runtime's double-precision erfc (checked against known values in the kernel tests).</summary>
    private static double Erf(double x) => 1 - NativeTransformer.Kernels.Activations.Erfc(x);
}
