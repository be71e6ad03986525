using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>The similarity kernels against scalar oracles on every length 0..256 (fixed seeds, extreme values included).</summary>
public class SimilarityKernelTests
{
    private static int DotInt8Oracle(sbyte[] a, sbyte[] b) { int s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    private static int HammingOracle(byte[] a, byte[] b)
    {
        int s = 0;
        for (int i = 0; i < a.Length; i++) for (int bit = 0; bit < 8; bit++) if (((a[i] >> bit) & 1) != ((b[i] >> bit) & 1)) s++;
        return s;
    }

    [Fact]
    public void Int8DotIsExactForEveryLength()
    {
        var rng = new Random(17);
        for (int n = 0; n <= 256; n++)
        {
            var a = new sbyte[n]; var b = new sbyte[n];
            for (int i = 0; i < n; i++) { a[i] = (sbyte)rng.Next(-128, 128); b[i] = (sbyte)rng.Next(-128, 128); }
            Assert.Equal(DotInt8Oracle(a, b), SimilarityKernels.DotInt8(a, b));
            // The extremes: −128·−128 everywhere is the largest sum of products.
            Array.Fill(a, sbyte.MinValue); Array.Fill(b, sbyte.MinValue);
            Assert.Equal(16384 * n, SimilarityKernels.DotInt8(a, b));
            Array.Fill(b, sbyte.MaxValue);
            Assert.Equal(-16256 * n, SimilarityKernels.DotInt8(a, b));
        }
        Assert.Throws<ArgumentException>(() => SimilarityKernels.DotInt8(new sbyte[3], new sbyte[4]));
    }

    [Fact]
    public void HammingCountsDifferingBitsForEveryLength()
    {
        var rng = new Random(23);
        for (int n = 0; n <= 256; n++)
        {
            var a = new byte[n]; var b = new byte[n];
            rng.NextBytes(a); rng.NextBytes(b);
            Assert.Equal(HammingOracle(a, b), SimilarityKernels.Hamming(a, b));
            Assert.Equal(0, SimilarityKernels.Hamming(a, a));
            Assert.Equal(8 * n, SimilarityKernels.Hamming(a, a.Select(x => (byte)~x).ToArray()));
        }
    }

    [Fact]
    public void FloatDotMatchesADoubleOracle()
    {
        var rng = new Random(29);
        for (int n = 0; n <= 256; n++)
        {
            var a = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            double expected = 0; for (int i = 0; i < n; i++) expected += (double)a[i] * b[i];
            Assert.True(Math.Abs(expected - SimilarityKernels.Dot(a, b)) < 1e-5, $"length {n}");
        }
    }
}
