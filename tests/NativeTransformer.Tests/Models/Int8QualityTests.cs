using Xunit.Abstractions;

namespace NativeTransformer.Tests.Models;

/// <summary>
/// Dynamic int8 keeps the models good: SST-2 dev accuracy within 0.5 points of fp32 and no worse than
/// PyTorch's dynamic int8 (REFERENCE_ACCURACY.json), and mean-pooled sentence embeddings with cosine ≥ 0.99 to fp32.
/// </summary>
public class Int8QualityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Classifiers() => ["bert-tiny-sst2", "bert-mini-sst2", "distilbert-mini-sst2", "albert-mini-sst2",
        "roberta-mini-sst2", "xlmr-mini-sst2", "albert-spm-mini-sst2", "mobilebert-mini-sst2",
        "t5-encoder-mini-sst2", "longformer-mini"];

    [Theory, MemberData(nameof(Classifiers))]
    public void Int8AccuracyHoldsUp(string name)
    {
        double accuracy = Sst2AccuracyTests.NtrEvalSst2(name, "--int8");
        double fp32 = Sst2AccuracyTests.ReferenceAccuracy(name, "sst2_dev_accuracy_fp32");
        double torchInt8 = Sst2AccuracyTests.ReferenceAccuracy(name, "sst2_dev_accuracy_torch_dynamic_int8");
        output.WriteLine($"{name}: int8 accuracy {accuracy:F2} (fp32 {fp32:F2}, PyTorch dynamic int8 {torchInt8:F2})");
        Assert.True(accuracy >= fp32 - 0.5, $"int8 {accuracy} is more than 0.5 below fp32 {fp32}");
        Assert.True(accuracy >= torchInt8, $"int8 {accuracy} is below PyTorch dynamic int8 {torchInt8}");
    }

    [Theory]
    [InlineData("bert-tiny-mlm")]
    [InlineData("bert-mini-sst2")]
    [InlineData("albert-mini-sst2")]
    public void Int8EmbeddingsStayClose(string name)
    {
        using var reference = ReferenceSet.Load(name);
        using var fp32 = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { Pooling = PoolingMode.Mean });
        using var int8 = TransformerModel.Load(TestPaths.Model(name), new LoadOptions { Pooling = PoolingMode.Mean, Int8 = true });
        var a = fp32.Embed(reference.Inputs); var b = int8.Embed(reference.Inputs);
        double worst = 1;
        for (int i = 0; i < a.Length; i++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < a[i].Length; j++) { dot += a[i][j] * b[i][j]; na += a[i][j] * a[i][j]; nb += b[i][j] * b[i][j]; }
            worst = Math.Min(worst, dot / Math.Sqrt(na * nb));
        }
        output.WriteLine($"{name}: worst int8-vs-fp32 embedding cosine {worst:F5} over {a.Length} inputs");
        Assert.True(worst >= 0.99, $"cosine {worst} < 0.99");
    }
}
