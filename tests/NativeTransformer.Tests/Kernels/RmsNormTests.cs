using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>The RMSNorm kernel against its double-precision oracle, every width 0..256, fixed seeds.</summary>
public class RmsNormTests
{
    [Fact]
    public void MatchesReferenceForEveryWidth()
    {
        for (int width = 0; width <= 256; width++)
        {
            var rng = new Random(width);
            int rows = 3;
            var x = Enumerable.Range(0, rows * width).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
            var weight = Enumerable.Range(0, width).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var expected = (float[])x.Clone();
            RmsNormReference.Normalize(expected, weight, rows, width, 1e-6f);
            RmsNorm.Normalize(x, weight, rows, width, 1e-6f);
            for (int i = 0; i < x.Length; i++)
                Assert.True(Math.Abs(expected[i] - x[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"width {width}, at {i}: {expected[i]} vs {x[i]}");
        }
    }

    [Fact]
    public void NoMeanIsSubtractedAndEpsKeepsZeroRowsFinite()
    {
        float[] row = [2, 2, 2, 2], weight = [1, 1, 1, 0.5f];
        RmsNorm.Normalize(row, weight, 1, 4, 0f);
        Assert.Equal([1f, 1f, 1f, 0.5f], row); // LayerNorm would give zeros: x − mean = 0
        float[] zeros = new float[8];
        RmsNorm.Normalize(zeros, new float[8], 1, 8, 1e-6f);
        Assert.All(zeros, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TooSmallBuffersAreRefused() =>
        Assert.Throws<ArgumentException>(() => RmsNorm.Normalize(new float[7], new float[4], 2, 4, 1e-6f));
}
