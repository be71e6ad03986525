using NativeTransformer.Training;
using NativeTransformer.Weights;

namespace NativeTransformer.Tests.Training;

/// <summary>
/// The training forward of each family on the real ../shared models against the PyTorch references (their own stored ids,
/// one padded batch of 32): logits within 1e-4 of the reference's scale, and every hidden state at real tokens — this proves the
/// weight-name mapping, RoBERTa's positions and ALBERT's projection and sharing. Then the same model's analytic gradient
/// against central differences of the float64 oracle on a few sampled parameters (2 items).
/// </summary>
public sealed class FamilyReferenceTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData("distilbert-mini-sst2")]
    [InlineData("roberta-mini-sst2")]
    [InlineData("xlmr-mini-sst2")]
    [InlineData("albert-mini-sst2")]
    [InlineData("albert-spm-mini-sst2")]
    [InlineData("bert-mini-sst2")]
    public void TrainingForwardMatchesPyTorch(string name)
    {
        var (model, r, batch) = LoadWithReference(name);
        using var _ = r;
        var tape = model.Forward(batch, threads: 2);

        var refLogits = r.GetFloat32("logits").Span;
        double scale = 0, diff = 0;
        for (int i = 0; i < refLogits.Length; i++) { scale = Math.Max(scale, Math.Abs(refLogits[i])); diff = Math.Max(diff, Math.Abs(tape.Logits[i] - refLogits[i])); }
        output.WriteLine($"{name}: logits max|diff| {diff:G3} (max|ref| {scale:G3})");
        Assert.True(diff <= 1e-4 * Math.Max(scale, 1), $"{name}: logits max|diff| {diff} vs max|ref| {scale}");

        for (int k = 0; k <= model.Config.NumLayers; k++)
        {
            var reference = r.GetFloat32($"hidden_states.{k}").Span;
            var mine = tape.HiddenState(k);
            int h = model.Config.HiddenSize;
            double hs = 0, hd = 0;
            for (int t = 0; t < batch.AttentionMask.Length; t++)
            {
                if (batch.AttentionMask[t] == 0) continue;
                for (int i = t * h; i < (t + 1) * h; i++) { hs = Math.Max(hs, Math.Abs(reference[i])); hd = Math.Max(hd, Math.Abs(mine[i] - reference[i])); }
            }
            Assert.True(hd <= 1e-4 * hs, $"{name}: hidden_states.{k} max|diff| {hd} vs max|ref| {hs}");
        }
    }

    [Theory]
    [InlineData("distilbert-mini-sst2")]
    [InlineData("roberta-mini-sst2")]
    [InlineData("albert-mini-sst2")]
    public void RealModelGradientsMatchFiniteDifferences(string name)
    {
        var (model, r, full) = LoadWithReference(name);
        r.Dispose();
        // The first two items, cut to the longer one's length (the second stays padded).
        int s = full.AttentionMask.Take(2 * full.Seq).Chunk(full.Seq).Max(row => row.Sum());
        int[] Cut(int[] a) => Enumerable.Range(0, 2).SelectMany(row => a.Skip(row * full.Seq).Take(s)).ToArray();
        var batch = new TrainingBatch(2, s, Cut(full.InputIds), Cut(full.TypeIds), Cut(full.AttentionMask), [1, 0]);
        var result = GradientComputation.Compute(model, batch, TrainingObjective.Parse("ce"), null, new ParameterSet(), threads: 2);

        var oracle = TinyTrainingModels.Oracle(model);
        var values = model.Parameters.All.ToDictionary(p => p.Name, p => p.Values.Select(v => (double)v).ToArray(), StringComparer.Ordinal);
        double Loss() => Float64EncoderOracle.CrossEntropy(oracle.Forward(values, batch).Logits, batch.Labels!, model.Labels);
        Assert.True(Math.Abs(Loss() - result.Loss) <= 1e-5 * Math.Abs(result.Loss), $"loss {result.Loss} vs float64 {Loss()}");

        // The largest-gradient entry of a few tensors: embeddings, the first and last layer's weights, the head.
        var names = model.Parameters.All.Select(p => p.Name)
            .Where(n => n.Contains("position_embeddings") || n.Contains("LayerNorm.weight") || n.Contains("layer.0.") && n.EndsWith("weight") || n.EndsWith("attention.query.weight") || n.StartsWith("classifier"))
            .Take(6).Append(model.Parameters.All[^3].Name).Distinct();
        double worst = 0;
        foreach (var n in names)
        {
            var g = result.Gradients[n].Values;
            int i = Enumerable.Range(0, g.Length).MaxBy(j => Math.Abs(g[j]));
            var x = values[n];
            double h = 1e-4 * Math.Max(1, Math.Abs(x[i])), keep = x[i];
            x[i] = keep + h; double up = Loss();
            x[i] = keep - h; double down = Loss();
            x[i] = keep;
            double numeric = (up - down) / (2 * h), rel = Math.Abs(numeric - g[i]) / Math.Abs(numeric);
            output.WriteLine($"{name} {n}[{i}]: analytic {g[i]:G6}, numeric {numeric:G6}, relative {rel:G2}");
            worst = Math.Max(worst, rel);
            Assert.True(rel <= 1e-3, $"{n}[{i}]: analytic {g[i]} vs numeric {numeric}");
        }
        output.WriteLine($"{name}: worst relative {worst:G2}");
    }

    private static (BertTrainingModel, SafetensorsFile, TrainingBatch) LoadWithReference(string name)
    {
        var r = SafetensorsFile.Open(Path.Combine(TestPaths.Reference(name), "public.safetensors"));
        return (BertTrainingModel.Load(TestPaths.Model(name)), r, ReferenceBatch(r));
    }

    internal static TrainingBatch ReferenceBatch(SafetensorsFile r)
    {
        int[] I(string n) => r.GetInt64(n).Select(v => (int)v).ToArray();
        var ids = I("input_ids");
        int rows = (int)r.GetInt64("seq_lengths").Length;
        return new TrainingBatch(rows, ids.Length / rows, ids, I("token_type_ids"), I("attention_mask"), null);
    }
}
