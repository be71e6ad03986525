using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>The SIMD GEMM against its scalar oracle, on every K in 0..256 and ragged M, N, with fixed seeds.</summary>
public class GemmTests
{
    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    [Fact]
    public void MatchesReferenceForEveryDepth0To256()
    {
        var rng = new Random(1234);
        int[] ms = [1, 3, 4, 5, 9], ns = [1, 4, 6, 13];
        for (int k = 0; k <= 256; k++)
        {
            int m = ms[k % ms.Length], n = ns[k % ns.Length];
            Check(rng, m, n, k, withBias: k % 2 == 0);
        }
    }

    [Theory]
    [InlineData(0, 5, 8)]
    [InlineData(5, 0, 8)]
    [InlineData(17, 33, 64)]
    [InlineData(64, 256, 256)]
    [InlineData(7, 1024, 255)]
    public void MatchesReferenceOnRaggedShapes(int m, int n, int k) => Check(new Random(m * 31 + n * 7 + k), m, n, k, withBias: true);

    [Fact]
    public void ThreadCountDoesNotChangeAnyBit()
    {
        var rng = new Random(42);
        int m = 37, n = 129, k = 200;
        var x = Random(rng, m * k); var w = Random(rng, n * k); var b = Random(rng, n);
        var one = new float[m * n]; var two = new float[m * n]; var serial = new float[m * n];
        Gemm.Compute(x, w, b, one, m, n, k, threads: 1);
        Gemm.Compute(x, w, b, two, m, n, k, threads: 2);
        Gemm.ComputeSerial(x, w, b, serial, m, n, k);
        Assert.Equal(one, two);
        Assert.Equal(one, serial);
    }

    [Fact]
    public void RowResultDoesNotDependOnItsPositionInTheBatch()
    {
        // The same x row computed alone and at every offset of a larger batch gives identical bits
        // (4×4, 1×4 and 1×1 kernels share one accumulation order).
        var rng = new Random(7);
        int n = 10, k = 77;
        var w = Random(rng, n * k); var row = Random(rng, k);
        var alone = new float[n];
        Gemm.ComputeSerial(row, w, default, alone, 1, n, k);
        for (int pos = 0; pos < 6; pos++)
        {
            var x = Random(rng, 6 * k);
            row.CopyTo(x, pos * k);
            var y = new float[6 * n];
            Gemm.ComputeSerial(x, w, default, y, 6, n, k);
            Assert.Equal(alone, y.AsSpan(pos * n, n).ToArray());
        }
    }

    [Fact]
    public void RejectsBuffersThatAreTooSmall()
    {
        Assert.Throws<ArgumentException>(() => Gemm.Compute(new float[3], new float[4], default, new float[4], 2, 2, 2));
    }

    private static void Check(Random rng, int m, int n, int k, bool withBias)
    {
        var x = Random(rng, m * k); var w = Random(rng, n * k); var b = withBias ? Random(rng, n) : [];
        var expected = new float[m * n]; var actual = new float[m * n];
        GemmReference.Compute(x, w, b, expected, m, n, k);
        Gemm.Compute(x, w, b, actual, m, n, k, threads: 2);
        float tolerance = 1e-6f * (k + 1) * 2;   // magnitude-scaled: |terms| ≤ 1, K of them
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"M={m} N={n} K={k} at {i}: {expected[i]} vs {actual[i]}");
    }
}
