using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// The library against an independent PyTorch implementation (../shared/reference): every hidden
/// state at positions whose attention mask is 1, the pooler output, logits and masked-LM logits,
/// within 1e-4 max absolute difference. Prints the worst difference per tensor.
/// </summary>
public class ReferenceParityTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> Models() => [.. ReferenceSet.ModelNames];

    [Theory, MemberData(nameof(Models))]
    public void EncodeMatchesPyTorch(string name)
    {
        using var reference = ReferenceSet.Load(name);
        using var model = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { MaxLength = reference.MaxLength, Threads = 2 });
        var result = model.Encode(reference.Inputs);

        var mask = reference.Long("attention_mask");
        Assert.Equal(reference.Long("input_ids"), result.Batch.InputIds.Select(i => (long)i));
        Assert.Equal(reference.Long("token_type_ids"), result.Batch.TypeIds.Select(i => (long)i));
        Assert.Equal(mask, result.Batch.AttentionMask.Select(i => (long)i));

        int h = result.HiddenSize;
        for (int i = 0; i < result.HiddenStates.Length; i++)
        {
            float d = Diff.MaxAbsMasked(reference.Float($"hidden_states.{i}"), result.HiddenStates[i], mask, h);
            output.WriteLine($"{name} hidden_states.{i}: max|diff| = {d:E2}");
            Assert.True(d < Tolerance, $"{name} hidden_states.{i}: max|diff| {d} ≥ {Tolerance}");
        }
        Assert.False(reference.Has($"hidden_states.{result.HiddenStates.Length}"), "reference has more layers than the model");
        Assert.Equal(reference.Has("pooler_output"), result.PoolerOutput != null);
        if (result.PoolerOutput != null) Check("pooler_output", reference.Float("pooler_output"), result.PoolerOutput);
        Assert.Equal(reference.Has("logits"), result.Logits != null);
        if (result.Logits != null) Check("logits", reference.Float("logits"), result.Logits);

        void Check(string tensor, float[] expected, float[] actual)
        {
            float d = Diff.MaxAbs(expected, actual);
            output.WriteLine($"{name} {tensor}: max|diff| = {d:E2}");
            Assert.True(d < Tolerance, $"{name} {tensor}: max|diff| {d} ≥ {Tolerance}");
        }
    }
}
