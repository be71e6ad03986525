using System.Text.Json;
using NativeTransformer.Tests.Cli;
using NativeTransformer.Weights;
using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// `ntr encode` against an independent PyTorch implementation (../shared/reference): token ids, type
/// ids and mask exactly; every hidden state at positions whose attention mask is 1 (padded positions
/// are implementation-defined), the pooler output and logits within 1e-4 max absolute difference.
/// Prints the worst difference per tensor.
/// </summary>
public class ReferenceParityTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> Models() => [.. ReferenceSet.ModelNames];

    [Theory, MemberData(nameof(Models))]
    public void NtrEncodeMatchesPyTorch(string name)
    {
        using var reference = ReferenceSet.Load(name);
        using var tmp = new TempDir();
        string input = tmp.Write("in.json", JsonSerializerInputs(reference.Inputs));
        string outPath = tmp.File("out.safetensors");
        var run = CliRunner.Run("encode", "--model", TestPaths.Model(name), "--input", input, "--output", outPath,
            "--max-length", reference.MaxLength.ToString(), "--threads", "2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var ours = SafetensorsFile.Open(outPath);

        var mask = reference.Long("attention_mask");
        foreach (var ids in new[] { "input_ids", "token_type_ids", "attention_mask" })
            Assert.Equal(reference.Long(ids), ours.GetInt64(ids));

        int layers = 0;
        for (; reference.Has($"hidden_states.{layers}"); layers++)
        {
            var expected = reference.Float($"hidden_states.{layers}");
            int h = (int)ours.Tensors.Single(t => t.Name == $"hidden_states.{layers}").Shape[2];
            float d = Diff.MaxAbsMasked(expected, ours.GetFloat32($"hidden_states.{layers}").ToArray(), mask, h);
            output.WriteLine($"{name} hidden_states.{layers}: max|diff| = {d:E2} (masked positions)");
            Assert.True(d < Tolerance, $"{name} hidden_states.{layers}: max|diff| {d} ≥ {Tolerance}");
        }
        Assert.False(ours.TryGetInfo($"hidden_states.{layers}", out _), "ntr wrote more layers than the reference has");

        foreach (var head in new[] { "pooler_output", "logits" })
        {
            Assert.Equal(reference.Has(head), ours.TryGetInfo(head, out _));
            if (!reference.Has(head)) continue;
            float d = Diff.MaxAbs(reference.Float(head), ours.GetFloat32(head).Span);
            output.WriteLine($"{name} {head}: max|diff| = {d:E2}");
            Assert.True(d < Tolerance, $"{name} {head}: max|diff| {d} ≥ {Tolerance}");
        }
    }

    public static TheoryData<string> EncoderModels() => [.. ReferenceSet.EncoderModelNames];

    /// <summary>
    /// The encoder and heads alone, fed the reference's own token ids (no tokenizer involved): every hidden state at
    /// positions with mask 1, the pooler output and the logits within 1e-4. Covers the families whose tokenizers are
    /// tested elsewhere (RoBERTa byte-level BPE, XLM-R and ALBERT SentencePiece).
    /// </summary>
    [Theory, MemberData(nameof(EncoderModels))]
    public void EncoderOnReferenceIdsMatchesPyTorch(string name)
    {
        using var reference = ReferenceSet.Load(name);
        using var model = IdsOnlyTokenizer.Load(TestPaths.Model(name), new LoadOptions { Threads = 2 });
        var batch = reference.Batch();
        var result = model.Encode(batch);
        var mask = reference.Long("attention_mask");
        int h = model.Config.HiddenSize;

        Assert.Equal(model.Config.NumLayers + 1, result.HiddenStates.Length);
        for (int l = 0; l < result.HiddenStates.Length; l++)
        {
            float d = Diff.MaxAbsMasked(reference.Float($"hidden_states.{l}"), result.HiddenStates[l], mask, h);
            output.WriteLine($"{name} hidden_states.{l}: max|diff| = {d:E2} (masked positions)");
            Assert.True(d < Tolerance, $"{name} hidden_states.{l}: max|diff| {d} ≥ {Tolerance}");
        }
        Assert.False(reference.Has($"hidden_states.{result.HiddenStates.Length}"), "the reference has more layers than the model ran");

        foreach (var (head, ours) in new[] { ("pooler_output", result.PoolerOutput), ("logits", result.Logits) })
        {
            Assert.Equal(reference.Has(head), ours is not null);
            if (ours is null) continue;
            float d = Diff.MaxAbs(reference.Float(head), ours);
            output.WriteLine($"{name} {head}: max|diff| = {d:E2}");
            Assert.True(d < Tolerance, $"{name} {head}: max|diff| {d} ≥ {Tolerance}");
        }
    }

    public static TheoryData<string> NewFamilyClassifiers() => ["roberta-mini-sst2", "xlmr-mini-sst2", "albert-spm-mini-sst2"];

    /// <summary>Dynamic int8 at load on the reference ids: the predicted class agrees with PyTorch fp32 on nearly every
    /// input (a few borderline rows may flip); prints the worst logit difference.</summary>
    [Theory, MemberData(nameof(NewFamilyClassifiers))]
    public void Int8LoadKeepsTheReferencePredictions(string name)
    {
        using var reference = ReferenceSet.Load(name);
        using var model = IdsOnlyTokenizer.Load(TestPaths.Model(name), new LoadOptions { Threads = 2, Int8 = true });
        Assert.Contains("int8", model.KernelDescription);
        var logits = model.Encode(reference.Batch()).Logits!;
        var expected = reference.Float("logits");
        int classes = model.NumLabels, rows = expected.Length / classes, agree = 0;
        for (int r = 0; r < rows; r++)
            if (ArgMax(expected.AsSpan(r * classes, classes)) == ArgMax(logits.AsSpan(r * classes, classes))) agree++;
        float d = Diff.MaxAbs(expected, logits);
        output.WriteLine($"{name} int8: argmax agrees on {agree}/{rows} inputs; logits max|diff| = {d:E2}");
        Assert.True(agree >= rows - Math.Max(1, rows / 16), $"{name} int8: argmax agrees on only {agree}/{rows}");
    }

    private static int ArgMax(ReadOnlySpan<float> row) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row);

    private static string JsonSerializerInputs(TextInput[] inputs)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartArray();
            foreach (var i in inputs)
            {
                w.WriteStartObject();
                w.WriteString("text", i.Text);
                if (i.TextPair != null) w.WriteString("text_pair", i.TextPair);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
