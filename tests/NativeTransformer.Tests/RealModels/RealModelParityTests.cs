using NativeTransformer.Tests.Models;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.RealModels;

/// <summary>
/// The real pretrained weights against ONNX Runtime's outputs of the ORIGINAL ONNX files (not our conversion):
/// 16 inputs (pairs, truncation, an empty string) as one right-padded batch at max_length 128.
/// </summary>
[Collection(RealModelsCollection.Name)]
public class RealModelParityTests(RealModelsFixture models, ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    [Theory]
    [InlineData(RealModelsFixture.MiniLm)]
    [InlineData(RealModelsFixture.Arctic)]
    public void TokensHiddenStatesPoolerAndEmbeddingsMatchOnnxRuntime(string name)
    {
        output.WriteLine($"fetch tool: {RealModelsFixture.FetchSeconds:F1} s (0 = already done by another test)");
        using var reference = ReferenceSet.LoadFrom(RealModelsFixture.Reference(name), name);
        Assert.Equal(128, reference.MaxLength);
        using var model = TransformerModel.Load(models.Dir(name), new LoadOptions
        {
            MaxLength = reference.MaxLength, Threads = 2,
            // The reference's pairs were truncated with the slow tokenizers' rule (its public.json says so).
            PairTruncation = NativeTransformer.Tokenization.PairTruncationStrategy.LongestFirst,
        });
        var r = model.Encode(reference.Inputs);
        int n = reference.Inputs.Length, refSeq = reference.MaxLength, seq = r.Batch.SeqLen, h = model.Config.HiddenSize;
        Assert.Equal(16, n);
        Assert.Equal(384, h);

        // Token ids, mask and types exact, over the reference's fixed 128 columns (ours pads to the longest row: the rest is padding).
        long[] ids = reference.Long("input_ids"), mask = reference.Long("attention_mask"), types = reference.Long("token_type_ids");
        for (int b = 0; b < n; b++)
            for (int t = 0; t < refSeq; t++)
            {
                int i = b * refSeq + t, j = b * seq + t;
                Assert.True(ids[i] == (t < seq ? r.Batch.InputIds[j] : 0), $"{name} row {b} token {t}: input_ids {(t < seq ? r.Batch.InputIds[j] : 0)}, expected {ids[i]}");
                Assert.True(mask[i] == (t < seq ? r.Batch.AttentionMask[j] : 0), $"{name} row {b} token {t}: attention_mask");
                Assert.True(types[i] == (t < seq ? r.Batch.TypeIds[j] : 0), $"{name} row {b} token {t}: token_type_ids");
            }

        // last_hidden_state at real tokens.
        var expected = reference.Float("last_hidden_state");
        var actual = r.HiddenStates[^1];
        float worst = 0;
        for (int b = 0; b < n; b++)
            for (int t = 0; t < seq; t++)
                if (mask[b * refSeq + t] == 1)
                    worst = Math.Max(worst, Diff.MaxAbs(expected.AsSpan((b * refSeq + t) * h, h), actual.AsSpan((b * seq + t) * h, h)));
        output.WriteLine($"{name}: last_hidden_state max |diff| {worst:E2}");
        Assert.True(worst < Tolerance, $"{name}: last_hidden_state max |diff| {worst}");

        // pooler_output: MiniLM has the tanh pooler; arctic's checkpoint has none (add_pooling_layer=False).
        Assert.Equal(reference.Has("pooler_output"), model.HasPooler);
        if (model.HasPooler)
        {
            float pooler = Diff.MaxAbs(reference.Float("pooler_output"), r.PoolerOutput!);
            output.WriteLine($"{name}: pooler_output max |diff| {pooler:E2}");
            Assert.True(pooler < Tolerance, $"{name}: pooler_output max |diff| {pooler}");
        }

        // sentence_embedding: the folder's own modules (MiniLM mean, arctic CLS; both Normalize), from Encode's one batch
        // and from Embed (which batches by length, so different padding).
        var sentence = reference.Float("sentence_embedding");
        float encoded = Diff.MaxAbs(sentence, r.Embeddings!);
        float embedded = Diff.MaxAbs(sentence, model.Embed(reference.Inputs).SelectMany(v => v).ToArray());
        output.WriteLine($"{name}: sentence_embedding max |diff| {encoded:E2} (Encode), {embedded:E2} (Embed)");
        Assert.True(encoded < Tolerance && embedded < Tolerance, $"{name}: sentence_embedding max |diff| {encoded} / {embedded}");
        // The two poolings really differ on this data: a wrong pooling choice could not pass.
        string other = name == RealModelsFixture.MiniLm ? "cls_embedding" : "mean_embedding";
        Assert.True(Diff.MaxAbs(reference.Float(other), r.Embeddings!) > 0.01f);
    }

    [Fact]
    public void HelloWorldMatchesFastembed()
    {
        var check = models.Scores.GetProperty(RealModelsFixture.MiniLm).GetProperty("hello_world_first5");
        var run = Cli.CliRunner.Run("embed", "--model", models.Dir(RealModelsFixture.MiniLm), check.GetProperty("text").GetString()!);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(Assert.Single(run.StdoutLines));
        var vector = doc.RootElement.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(384, vector.Length);
        var expected = check.GetProperty("expected_fastembed").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        double tolerance = check.GetProperty("tolerance").GetDouble();
        output.WriteLine($"hello world: [{string.Join(", ", vector.Take(5))}] vs fastembed [{string.Join(", ", expected)}]");
        for (int i = 0; i < expected.Length; i++) Assert.InRange(vector[i], expected[i] - tolerance, expected[i] + tolerance);
    }
}
