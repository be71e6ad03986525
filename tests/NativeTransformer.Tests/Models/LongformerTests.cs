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
