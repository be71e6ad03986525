using NativeTransformer.Kernels;

namespace NativeTransformer.Tests.Kernels;

/// <summary>The tiled single-head attention against its double-precision oracle, on ragged shapes, with strided in-place heads.</summary>
public unsafe class AttentionKernelTests
{
    [Theory]
    [InlineData(1, 1, 8)]
    [InlineData(5, 3, 8)]
    [InlineData(16, 16, 32)]
    [InlineData(17, 11, 64)]
    [InlineData(64, 64, 64)]
    [InlineData(37, 20, 12)]   // head size not a multiple of 8: scalar tails
    [InlineData(130, 129, 32)]
    public void MatchesReference(int rows, int valid, int d)
    {
        var rng = new Random(rows * 1000 + valid * 10 + d);
        int stride = 3 * d + 5;   // heads live inside wider rows
        var qkv = Enumerable.Range(0, rows * stride).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var expected = new float[rows * d]; var actual = new float[rows * d];
        var scratch = new float[AttentionKernel.ScratchLength(rows, valid, d)];
        float scale = 1f / MathF.Sqrt(d);
        fixed (float* p = qkv, e = expected, a = actual)
        {
            AttentionReference.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, scale, e, d);
            AttentionKernel.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, scale, a, d, scratch);
        }
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 2e-5f, $"at {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void RowResultDoesNotDependOnOtherRows()
    {
        var rng = new Random(3);
        int rows = 13, valid = 9, d = 32, stride = 3 * d;
        var qkv = Enumerable.Range(0, rows * stride).Select(_ => (float)rng.NextDouble()).ToArray();
        var all = new float[rows * d];
        var scratch = new float[AttentionKernel.ScratchLength(rows, valid, d)];
        fixed (float* p = qkv, o = all) AttentionKernel.SingleHead(p, p + d, p + 2 * d, stride, rows, valid, d, 0.2f, o, d, scratch);
        for (int r = 0; r < rows; r++)
        {
            // The same query alone (keys and values unchanged): copy its q into row 0 of a 1-row problem.
            var single = (float[])qkv.Clone();
            Array.Copy(qkv, r * stride, single, 0, d);
            var one = new float[d];
            fixed (float* p = single, o = one)
            fixed (float* k = &qkv[d])
                AttentionKernel.SingleHead(p, k, k + d, stride, 1, valid, d, 0.2f, o, d, scratch);
            Assert.Equal(all.AsSpan(r * d, d).ToArray(), one);
        }
    }
}
