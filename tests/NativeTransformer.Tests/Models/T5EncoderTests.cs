using System.Text.Json.Nodes;
using NativeTransformer.Models;
using NativeTransformer.Tokenization;
using NativeTransformer.Weights;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// The T5 encoder (T5EncoderModel) against the PyTorch reference of t5-encoder-mini-sst2: relative position buckets and
/// bias, token ids, every hidden state (the last after final_layer_norm), the mean-pooled output and the
/// 2_Dense_classifier logits; int8; the gated FFN of T5 v1.1; hostile configs. `ntr encode` / `ntr eval` parity is in
/// <see cref="ReferenceParityTests"/> and <see cref="Sst2AccuracyTests"/>.
/// </summary>
public sealed class T5EncoderTests(ITestOutputHelper output)
{
    private const string T5 = "t5-encoder-mini-sst2";
    private const float Tolerance = 1e-4f;

    [Fact]
    public void RelativePositionBucketsAreHuggingFaces()
    {
        using var reference = ReferenceSet.Load(T5);
        var expected = reference.Long("relative_position_bucket"); // [query, key]
        int n = (int)Math.Sqrt(expected.Length);
        var config = ModelConfig.Load(Path.Combine(TestPaths.Model(T5), "config.json"));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.True(expected[i * n + j] == RelativePositionBias.Bucket(j - i, config.T5!.RelativeAttentionNumBuckets, config.T5.RelativeAttentionMaxDistance),
                    $"query {i}, key {j}: expected bucket {expected[i * n + j]}");
        // Far distances share the last bucket of their half; the halves split by sign.
        Assert.Equal(15, RelativePositionBias.Bucket(-100_000, 32, 128));
        Assert.Equal(31, RelativePositionBias.Bucket(100_000, 32, 128));
    }

    [Fact]
    public void PositionBiasIsHuggingFaces()
    {
        using var reference = ReferenceSet.Load(T5);
        var expected = reference.Float("position_bias"); // [heads, query, key]
        var config = ModelConfig.Load(Path.Combine(TestPaths.Model(T5), "config.json"));
        using var weights = SafetensorsFile.Open(Path.Combine(TestPaths.Model(T5), "model.safetensors"));
        var bias = new RelativePositionBias(weights.GetFloat32("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").Span,
            config.T5!, config.NumHeads, config.MaxSequenceLength);
        int heads = config.NumHeads, n = (int)Math.Sqrt(expected.Length / heads);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(expected[(h * n + i) * n + j], bias.At(h, i, j)); // a table lookup: exact
    }

    [Fact]
    public void TokenIdsAreHuggingFaces()
    {
        using var reference = ReferenceSet.Load(T5);
        using var model = TransformerModel.Load(TestPaths.Model(T5), new LoadOptions { MaxLength = reference.MaxLength, Threads = 2 });
        var ours = model.Encode(reference.Inputs).Batch;
        Assert.Equal(reference.Long("input_ids").Select(v => (int)v), ours.InputIds);
        Assert.Equal(reference.Long("attention_mask").Select(v => (int)v), ours.AttentionMask);
    }

    [Fact]
    public void EncoderMatchesPyTorch()
    {
        using var reference = ReferenceSet.Load(T5);
        using var model = IdsOnlyTokenizer.Load(TestPaths.Model(T5), new LoadOptions { Threads = 2 });
        Assert.Equal(ModelFamily.T5, model.Config.Family);
        var result = model.Encode(reference.Batch());
        var mask = reference.Long("attention_mask");
        int h = model.Config.HiddenSize;
        Assert.Equal(3, result.HiddenStates.Length);
        for (int l = 0; l < result.HiddenStates.Length; l++)
        {
            float d = Diff.MaxAbsMasked(reference.Float($"hidden_states.{l}"), result.HiddenStates[l], mask, h);
            output.WriteLine($"hidden_states.{l}: max|diff| = {d:E2} (mask-1 positions)");
            Assert.True(d < Tolerance, $"hidden_states.{l}: max|diff| {d}");
        }
        foreach (var (name, ours) in new[] { ("mean_pooled", result.Embeddings!), ("logits", result.Logits!) })
        {
            float d = Diff.MaxAbs(reference.Float(name), ours);
            output.WriteLine($"{name}: max|diff| = {d:E2}");
            Assert.True(d < Tolerance, $"{name}: max|diff| {d}");
        }
        Assert.Equal("positive", model.Config.Id2Label[1]); // from 2_Dense_classifier/config.json
    }

    [Fact]
    public void Int8KeepsTheReferencePredictions()
    {
        using var reference = ReferenceSet.Load(T5);
        using var model = IdsOnlyTokenizer.Load(TestPaths.Model(T5), new LoadOptions { Threads = 2, Int8 = true });
        Assert.Contains("int8", model.KernelDescription);
        var result = model.Encode(reference.Batch());
        var expected = reference.Float("logits");
        int rows = expected.Length / 2, agree = 0;
        for (int r = 0; r < rows; r++)
            if (expected[2 * r] > expected[2 * r + 1] == result.Logits![2 * r] > result.Logits[2 * r + 1]) agree++;
        float hidden = Diff.MaxAbsMasked(reference.Float("hidden_states.2"), result.HiddenStates[2], reference.Long("attention_mask"), model.Config.HiddenSize);
        output.WriteLine($"int8: argmax agrees on {agree}/{rows}; logits max|diff| {Diff.MaxAbs(expected, result.Logits!):E2}; last hidden max|diff| {hidden:E2}");
        Assert.True(agree >= rows - 2, $"int8 argmax agrees on only {agree}/{rows}");
        Assert.True(hidden < 0.5f, $"int8 last hidden state max|diff| {hidden}");
    }

    /// <summary>The test's own double-precision T5 encoder (<see cref="T5Oracle"/>) agrees with PyTorch here, which makes it
    /// a fair oracle for what the reference does not cover.</summary>
    [Fact]
    public void TestOracleMatchesPyTorch()
    {
        using var reference = ReferenceSet.Load(T5);
        var batch = reference.Batch();
        var config = ModelConfig.Load(Path.Combine(TestPaths.Model(T5), "config.json"));
        using var weights = SafetensorsFile.Open(Path.Combine(TestPaths.Model(T5), "model.safetensors"));
        var last = reference.Float("hidden_states.2");
        int h = config.HiddenSize;
        foreach (int row in new[] { 0, 3 })
        {
            int n = batch.Lengths[row];
            var ours = T5Oracle.Run(weights, config, batch.InputIds.AsSpan(row * batch.SeqLen, n).ToArray());
            float d = Diff.MaxAbs(last.AsSpan(row * batch.SeqLen * h, n * h), ours);
            Assert.True(d < Tolerance, $"oracle row {row}: max|diff| {d}");
        }
    }

    /// <summary>T5 v1.1's gated-gelu FFN (wo(gelu_tanh(wi_0·x) ⊙ wi_1·x)), fp32 and int8, on a folder whose FFN input Linear is
    /// split into wi_0 (the original wi) and a seeded wi_1, against <see cref="T5Oracle"/>.</summary>
    [Fact]
    public void GatedGeluMatchesTheOracle()
    {
        using var folder = TempModelFolder.CopyOf(T5);
        var json = JsonNode.Parse(File.ReadAllText(folder.FilePath("config.json")))!;
        json["feed_forward_proj"] = "gated-gelu";
        File.WriteAllText(folder.FilePath("config.json"), json.ToJsonString());
        var rng = new Random(11);
        CheckpointEditor.Rewrite(folder.Path, (info, data) =>
        {
            if (!info.Name.EndsWith(".DenseReluDense.wi.weight", StringComparison.Ordinal)) return CheckpointEditor.Keep(info, data);
            return new TensorToWrite(info.Name.Replace(".wi.", ".wi_0.", StringComparison.Ordinal), info.DType, info.Shape, data);
        }, Enumerable.Range(0, 2).Select(l => TensorToWrite.FromFloat32($"encoder.block.{l}.layer.1.DenseReluDense.wi_1.weight", [256, 64],
            Enumerable.Range(0, 256 * 64).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray())).ToArray());
        var config = ModelConfig.Load(folder.FilePath("config.json"));
        Assert.True(config.T5!.IsGatedAct);
        Assert.Equal(Activation.GeluTanh, config.HiddenAct);

        int[][] rows = [[71, 1], [3, 9, 1782, 6, 3, 5, 1], [37, 1033, 19, 1627, 11, 8, 5944, 656, 150, 1254, 3, 5, 1]];
        var batch = PostProcessor.Pad(rows.Select(r => new Encoding(r, new int[r.Length], [], [], [], false)).ToArray(), 0);
        using var weights = SafetensorsFile.Open(folder.FilePath("model.safetensors"));
        foreach (bool int8 in new[] { false, true })
        {
            using var model = IdsOnlyTokenizer.Load(folder.Path, new LoadOptions { Threads = 2, Int8 = int8 });
            var last = model.Encode(batch).HiddenStates[^1];
            int h = config.HiddenSize;
            for (int r = 0; r < rows.Length; r++)
            {
                var expected = T5Oracle.Run(weights, config, rows[r]);
                float d = Diff.MaxAbs(expected, last.AsSpan(r * batch.SeqLen * h, rows[r].Length * h));
                output.WriteLine($"gated-gelu {(int8 ? "int8" : "fp32")} row {r}: max|diff| {d:E2}");
                Assert.True(d < (int8 ? 0.25f : Tolerance), $"gated-gelu {(int8 ? "int8" : "fp32")} row {r}: max|diff| {d}");
            }
        }
    }

    [Theory]
    [InlineData("relative_attention_num_buckets", "0")]
    [InlineData("relative_attention_num_buckets", "-32")]
    [InlineData("relative_attention_num_buckets", "3")]
    [InlineData("relative_attention_num_buckets", "2000000000")]
    [InlineData("relative_attention_max_distance", "0")]
    [InlineData("relative_attention_max_distance", "8")]
    [InlineData("relative_attention_max_distance", "2147483647")]
    [InlineData("feed_forward_proj", "\"swiglu\"")]
    [InlineData("feed_forward_proj", "\"gated-silu\"")]
    [InlineData("feed_forward_proj", "\"gated-gelu-new\"")]
    [InlineData("feed_forward_proj", "\"\"")]
    [InlineData("d_kv", "0")]
    [InlineData("d_kv", "-64")]
    [InlineData("num_heads", "0")]
    [InlineData("num_layers", "100000")]
    [InlineData("d_model", "-1")]
    [InlineData("layer_norm_epsilon", "0")]
    [InlineData("n_positions", "0")]
    public void HostileConfigIsATypedErrorNamingTheKey(string key, string value)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Model(T5), "config.json")))!;
        json[key] = JsonNode.Parse(value);
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void AbsurdAttentionWidthIsRefusedBeforeAnythingIsSized()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Model(T5), "config.json")))!;
        json["d_kv"] = 1 << 28;
        json["num_heads"] = 64;
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString()));
        Assert.Contains("d_kv", e.Message);
    }

    /// <summary>d_kv × num_heads that disagrees with the checkpoint: the first attention Linear is named with both shapes.</summary>
    [Fact]
    public void AttentionWidthMismatchWithTheWeightsNamesTheTensor()
    {
        using var folder = TempModelFolder.CopyOf(T5);
        var json = JsonNode.Parse(File.ReadAllText(folder.FilePath("config.json")))!;
        json["d_kv"] = 16;
        File.WriteAllText(folder.FilePath("config.json"), json.ToJsonString());
        var e = Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path));
        Assert.Equal("encoder.block.0.layer.0.SelfAttention.q.weight", e.Key);
        Assert.Contains("[128, 64]", e.Message);
        Assert.Contains("[64, 64]", e.Message);
    }

    [Fact]
    public void MissingFinalNormNamesItsKey()
    {
        using var folder = TempModelFolder.CopyOf(T5);
        CheckpointEditor.Rewrite(folder.Path, (info, data) => info.Name == "encoder.final_layer_norm.weight" ? null : CheckpointEditor.Keep(info, data));
        Assert.Equal("encoder.final_layer_norm.weight", Assert.Throws<WeightException>(() => TransformerModel.Load(folder.Path)).Key);
    }

    /// <summary>A full T5 checkpoint (T5ForConditionalGeneration) loads its encoder: decoder.* and lm_head are not read.</summary>
    [Fact]
    public void FullT5CheckpointLoadsItsEncoder()
    {
        using var reference = ReferenceSet.Load(T5);
        using var folder = TempModelFolder.CopyOf(T5);
        CheckpointEditor.Rewrite(folder.Path, CheckpointEditor.Keep,
            TensorToWrite.FromFloat32("decoder.block.0.layer.0.SelfAttention.q.weight", [128, 64], new float[128 * 64]),
            TensorToWrite.FromFloat32("decoder.final_layer_norm.weight", [64], new float[64]),
            TensorToWrite.FromFloat32("lm_head.weight", [7, 64], new float[7 * 64]));
        using var model = IdsOnlyTokenizer.Load(folder.Path, new LoadOptions { Threads = 1 });
        var result = model.Encode(reference.Batch());
        float d = Diff.MaxAbsMasked(reference.Float("hidden_states.2"), result.HiddenStates[2], reference.Long("attention_mask"), model.Config.HiddenSize);
        Assert.True(d < Tolerance, $"max|diff| {d}");
    }
}

/// <summary>A plain double-precision T5 encoder for one unpadded sequence, written from the paper / Hugging Face's math and
/// sharing no code with the runtime except the bucket function (checked against Hugging Face's buckets separately).</summary>
internal static class T5Oracle
{
    public static float[] Run(SafetensorsFile w, ModelConfig c, int[] ids)
    {
        int n = ids.Length, d = c.HiddenSize, heads = c.NumHeads, dkv = c.T5!.HeadSize, inner = heads * dkv;
        double[] T(string key) => Array.ConvertAll(w.GetFloat32(key).ToArray(), v => (double)v);
        var shared = T("shared.weight");
        var h = new double[n, d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) h[i, j] = shared[ids[i] * d + j];
        var rab = T("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"encoder.block.{l}.layer.";
            var x = Rms(h, T(p + "0.layer_norm.weight"), c.LayerNormEps);
            double[,] q = Linear(x, T(p + "0.SelfAttention.q.weight"), inner), k = Linear(x, T(p + "0.SelfAttention.k.weight"), inner),
                v = Linear(x, T(p + "0.SelfAttention.v.weight"), inner);
            var context = new double[n, inner];
            for (int head = 0; head < heads; head++)
                for (int i = 0; i < n; i++)
                {
                    var s = new double[n];
                    for (int j = 0; j < n; j++)
                    {
                        for (int t = 0; t < dkv; t++) s[j] += q[i, head * dkv + t] * k[j, head * dkv + t];
                        s[j] += rab[RelativePositionBias.Bucket(j - i, c.T5.RelativeAttentionNumBuckets, c.T5.RelativeAttentionMaxDistance) * heads + head];
                    }
                    double max = s.Max(), sum = s.Sum(e => Math.Exp(e - max));
                    for (int j = 0; j < n; j++)
                        for (int t = 0; t < dkv; t++) context[i, head * dkv + t] += Math.Exp(s[j] - max) / sum * v[j, head * dkv + t];
                }
            Add(h, Linear(context, T(p + "0.SelfAttention.o.weight"), d));
            x = Rms(h, T(p + "1.layer_norm.weight"), c.LayerNormEps);
            double[,] f;
            if (c.T5.IsGatedAct)
            {
                f = Linear(x, T(p + "1.DenseReluDense.wi_0.weight"), c.IntermediateSize);
                var gate = Linear(x, T(p + "1.DenseReluDense.wi_1.weight"), c.IntermediateSize);
                for (int i = 0; i < n; i++) for (int j = 0; j < c.IntermediateSize; j++) f[i, j] = Act(f[i, j], c.HiddenAct) * gate[i, j];
            }
            else
            {
                f = Linear(x, T(p + "1.DenseReluDense.wi.weight"), c.IntermediateSize);
                for (int i = 0; i < n; i++) for (int j = 0; j < c.IntermediateSize; j++) f[i, j] = Act(f[i, j], c.HiddenAct);
            }
            Add(h, Linear(f, T(p + "1.DenseReluDense.wo.weight"), d));
        }
        var last = Rms(h, T("encoder.final_layer_norm.weight"), c.LayerNormEps);
        var result = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) result[i * d + j] = (float)last[i, j];
        return result;
    }

    private static double Act(double x, Activation a) => a switch
    {
        Activation.Relu => Math.Max(x, 0),
        Activation.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        _ => throw new NotSupportedException(a.ToString()),
    };

    private static double[,] Rms(double[,] h, double[] weight, double eps)
    {
        int n = h.GetLength(0), d = h.GetLength(1);
        var y = new double[n, d];
        for (int i = 0; i < n; i++)
        {
            double ms = 0;
            for (int j = 0; j < d; j++) ms += h[i, j] * h[i, j];
            double inv = 1 / Math.Sqrt(ms / d + eps);
            for (int j = 0; j < d; j++) y[i, j] = h[i, j] * inv * weight[j];
        }
        return y;
    }

    private static double[,] Linear(double[,] x, double[] weight, int outFeatures)
    {
        int n = x.GetLength(0), inFeatures = x.GetLength(1);
        var y = new double[n, outFeatures];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < outFeatures; o++)
            {
                double s = 0;
                for (int t = 0; t < inFeatures; t++) s += x[i, t] * weight[o * inFeatures + t];
                y[i, o] = s;
            }
        return y;
    }

    private static void Add(double[,] h, double[,] delta)
    {
        for (int i = 0; i < h.GetLength(0); i++) for (int j = 0; j < h.GetLength(1); j++) h[i, j] += delta[i, j];
    }
}
